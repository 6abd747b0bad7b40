"""holozero: byte-level transformers behind a zero-parameter HSL input door, and its controls.

from holozero.features import hsl_features       # ids [..., L] -> [..., L, 27]
from holozero.doors import DOORS                  # name -> door class
"""

__version__ = "0.1.0"
