"""IAT: the Illumination Adaptive Transformer (Cui et al., "You Only Need 90K Parameters to Adapt
Light: a Light Weight Transformer for Image Enhancement and Exposure Correction", BMVC 2022).

Two branches on the input ``x``:

- local (full resolution): a 3x3 convolution (LeakyReLU 0.2) to 16 channels, then two stacks of
  three blocks, one predicting a multiplicative map and one an additive map (each stack with a
  skip around it; ReLU and tanh heads); ``y = x * mul + add``. A block: a depthwise 3x3
  position embedding added, then ``x + g1 * conv1x1(dw5x5(conv1x1(norm(x))))`` and
  ``x + g2 * mlp(norm(x))``, where the norm is a learned per-pixel channel mixing with a scale
  and shift (the paper's affine "channel normalisation"; no statistics) and the MLP is two 1x1
  convolutions with GELU.
- global (whole image): two stride-2 convolutions with batch norm and GELU to 64 channels, a
  depthwise position embedding, then ten learned queries attend over every position (4 heads);
  after a residual MLP, query 0 gives a gamma and queries 1-9 a 3x3 colour matrix (each through
  its own linear layer, plus a learned base: 1 and the identity).

Output: ``clamp(y @ C^T, 1e-8, 1) ** gamma`` per image. Parameter names follow the authors'
published files (``local_net.*``, ``global_net.*``), which load unchanged (``--model iat
--weights best_Epoch_lol_v1.pth``; Apache-2.0).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import EnhancementNet
from .registry import register_model


class ChannelAffine(nn.Module):
    """``(x @ color^T) * alpha + beta`` over the last (channel) axis of ``(B, N, C)``."""

    def __init__(self, dim: int):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, 1, dim))
        self.beta = nn.Parameter(torch.zeros(1, 1, dim))
        self.color = nn.Parameter(torch.eye(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x @ self.color.T) * self.alpha + self.beta


class ConvMlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Conv2d(dim, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class LinearMlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


def _channel_norm(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Apply a ``(B, N, C)`` norm to a ``(B, C, H, W)`` map."""
    b, c, h, w = x.shape
    return norm(x.flatten(2).transpose(1, 2)).reshape(b, h, w, c).permute(0, 3, 1, 2)


class LocalBlock(nn.Module):
    """The local branch's convolutional block (a depthwise 5x5 as its "attention")."""

    def __init__(self, dim: int = 16, mlp_ratio: float = 4.0):
        super().__init__()
        self.pos_embed = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = ChannelAffine(dim)
        self.conv1 = nn.Conv2d(dim, dim, 1)
        self.attn = nn.Conv2d(dim, dim, 5, padding=2, groups=dim)
        self.conv2 = nn.Conv2d(dim, dim, 1)
        self.norm2 = ChannelAffine(dim)
        self.mlp = ConvMlp(dim, int(dim * mlp_ratio))
        self.gamma_1 = nn.Parameter(1e-4 * torch.ones(1, dim, 1, 1))
        self.gamma_2 = nn.Parameter(1e-4 * torch.ones(1, dim, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.pos_embed(x)
        x = x + self.gamma_1 * self.conv2(self.attn(self.conv1(_channel_norm(self.norm1, x))))
        return x + self.gamma_2 * self.mlp(_channel_norm(self.norm2, x))


class LocalBranch(nn.Module):
    """Per-pixel multiplicative and additive maps ``(B, 3, H, W)`` each."""

    def __init__(self, dim: int = 16, blocks: int = 3):
        super().__init__()
        self.conv1 = nn.Conv2d(3, dim, 3, padding=1)
        self.mul_blocks = nn.Sequential(*[LocalBlock(dim) for _ in range(blocks)])
        self.add_blocks = nn.Sequential(*[LocalBlock(dim) for _ in range(blocks)])
        self.mul_end = nn.Sequential(nn.Conv2d(dim, 3, 3, padding=1), nn.ReLU())
        self.add_end = nn.Sequential(nn.Conv2d(dim, 3, 3, padding=1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = F.leaky_relu(self.conv1(x), 0.2)
        return self.mul_end(self.mul_blocks(f) + f), self.add_end(self.add_blocks(f) + f)


class Embedding(nn.Module):
    """Two stride-2 3x3 convolutions with batch norm (GELU between): 1/4 resolution."""

    def __init__(self, dim: int = 64):
        super().__init__()
        self.proj = nn.Sequential(nn.Conv2d(3, dim // 2, 3, stride=2, padding=1), nn.BatchNorm2d(dim // 2), nn.GELU(),
                                  nn.Conv2d(dim // 2, dim, 3, stride=2, padding=1), nn.BatchNorm2d(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class QueryAttention(nn.Module):
    """``queries`` learned queries attend over the ``(B, N, C)`` tokens: ``(B, queries, C)``."""

    def __init__(self, dim: int = 64, heads: int = 4, queries: int = 10):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.q = nn.Parameter(torch.ones(1, queries, dim))
        self.k = nn.Linear(dim, dim, bias=False)
        self.v = nn.Linear(dim, dim, bias=False)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        split = lambda t: t.reshape(b, t.shape[1], self.heads, c // self.heads).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q.expand(b, -1, -1)), split(self.k(x)), split(self.v(x))
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, -1, c))


class QueryBlock(nn.Module):
    def __init__(self, dim: int = 64, heads: int = 4, mlp_ratio: float = 4.0):
        super().__init__()
        self.pos_embed = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = QueryAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = LinearMlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.pos_embed(x)
        x = self.attn(self.norm1(x.flatten(2).transpose(1, 2)))  # the queries replace the tokens
        return x + self.mlp(self.norm2(x))


class GlobalBranch(nn.Module):
    """Per image: a gamma ``(B, 1)`` and a colour matrix ``(B, 3, 3)``."""

    def __init__(self, dim: int = 64, heads: int = 4):
        super().__init__()
        self.gamma_base = nn.Parameter(torch.ones(1))
        self.color_base = nn.Parameter(torch.eye(3))
        self.conv_large = Embedding(dim)
        self.generator = QueryBlock(dim, heads)
        self.gamma_linear = nn.Linear(dim, 1)
        self.color_linear = nn.Linear(dim, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        q = self.generator(self.conv_large(x))
        gamma = self.gamma_linear(q[:, :1]).squeeze(-1) + self.gamma_base
        color = self.color_linear(q[:, 1:]).squeeze(-1).view(-1, 3, 3) + self.color_base
        return gamma, color


@register_model("iat", "IAT (Cui et al., BMVC 2022): local multiply/add maps, a global gamma and colour "
                "matrix from 10 attention queries; a peer, loads the authors' weights",
                expects="best_Epoch_lol_v1.pth (LOL-v1), best_Epoch_lol.pth (LOL-v2-real) or "
                        "best_Epoch_exposure.pth (cuiziteng/Illumination-Adaptive-Transformer IAT_enhance/, Apache-2.0)")
class IAT(EnhancementNet):
    """Input and output ``(B, 3, H, W)`` in [0, 1]; any size (the global branch sees the whole
    image, so tiles would each get their own gamma: large photos run whole)."""

    tiles = False

    def __init__(self):
        super().__init__()
        self.local_net = LocalBranch()
        self.global_net = GlobalBranch()

    def forward_padded(self, x: torch.Tensor, stats=None) -> torch.Tensor:
        mul, add = self.local_net(x)
        y = x * mul + add
        gamma, color = self.global_net(x)
        y = torch.einsum("bchw,bkc->bkhw", y, color).clamp(1e-8, 1.0)
        return y ** gamma.view(-1, 1, 1, 1)

