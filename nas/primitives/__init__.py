"""Published SR building blocks, one paper block per file (timm ``timm/layers`` style).

* ``layers``: ``conv`` ("same" padding, optional weight norm), activations / attentions by name.
* ``cca``: IMDN contrast-aware channel attention. ``esa``: RFDN enhanced spatial attention.
* ``rfdb``: RFDN residual feature distillation block. ``imdb``: IMDN multi-distillation block.
* ``awsrn``: AWSRN Scale, AWRU, LFB, AWMS. ``ecb``: ECBSR edge-oriented conv block (+ re-param).
* ``rlfb``: RLFN residual local feature block (with the slim ESA of ``esa``).
* ``span``: SPAN's re-parameterisable Conv3XC and the parameter-free attention block SPAB.
* ``bsconv``: BSRN's blueprint separable conv BSConv-U (pointwise, then depthwise).
  ``esdb``: BSRN's efficient separable distillation block (and BSRN-S's variant).
* ``resblock``: EDSR's plain residual block (conv, ReLU, conv, scaled residual).
* ``plain``: the plain conv layer (3x3 conv + activation) of SRCNN / VDSR.
* ``upsample``: pixel-shuffle / ECB / EDSR upsamplers, the nearest / bilinear input skips and
  MATLAB's bicubic interpolation (pre-upsampling networks).

Every module maps (N, C, H, W) tensors; constructors take plain ints and strings.
"""

from nas.primitives.awsrn import AWMS, AWRU, LFB, Scale
from nas.primitives.bsconv import BSConvU
from nas.primitives.cca import CCALayer
from nas.primitives.ecb import ECB, ECBBlock
from nas.primitives.esa import ESA, ESA_MIN_SIZE
from nas.primitives.esdb import ESDB
from nas.primitives.imdb import IMDB
from nas.primitives.layers import (
    ACTIVATIONS,
    ATTENTIONS,
    conv,
    distilled_channels,
    make_activation,
    make_attention,
)
from nas.primitives.rfdb import RFDB
from nas.primitives.rlfb import RLFB
from nas.primitives.span import SPAB, Conv3XC
from nas.primitives.plain import ConvAct
from nas.primitives.resblock import ResBlock
from nas.primitives.upsample import (
    BicubicUpsample,
    BilinearUpsample,
    DeconvUpsampler,
    ECBUpsampler,
    EDSRUpsampler,
    NearestUpsample,
    PixelShuffleUpsampler,
)

__all__ = [
    "ACTIVATIONS", "ATTENTIONS", "AWMS", "AWRU", "BSConvU", "BicubicUpsample", "BilinearUpsample", "CCALayer",
    "Conv3XC", "ConvAct", "DeconvUpsampler", "ECB",
    "ECBBlock", "ECBUpsampler",
    "EDSRUpsampler", "ESA", "ESA_MIN_SIZE", "ESDB", "IMDB", "LFB", "NearestUpsample", "PixelShuffleUpsampler", "RFDB",
    "RLFB", "ResBlock", "SPAB", "Scale", "conv", "distilled_channels", "make_activation", "make_attention",
]
