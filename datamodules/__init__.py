"""LightningDataModules that turn text, audio, frames and captioned items into byte windows."""
