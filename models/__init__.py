"""The decoder body (plain nn.Module) and the LightningModule that wraps door + body."""
