"""The page's pictures as both renderers print them: decoded once, transparency flattened, and turned
into what is printed (the portrait cropped to its box, the ghost image lightened, a signature as ink).
"""

from __future__ import annotations

import functools

from PIL import Image, ImageOps

from mrtd.limits import open_image as within_limits

GHOST_STRENGTH = 0.42  # the ghost image keeps 42% of the portrait's darkness


@functools.lru_cache(maxsize=16)
def open_image(data: bytes, what: str) -> Image.Image:
    """Decode an image; transparency is flattened onto white (a transparent PNG signature is ink on
    nothing, not ink on black)."""
    im = within_limits(data, what)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat.alpha_composite(rgba)
        return flat.convert("RGB")
    return im


def cover(data: bytes, size: tuple[int, int], what: str = "portrait") -> Image.Image:
    """The portrait scaled and cropped to fill `size` (the head kept a little above the centre)."""
    return ImageOps.fit(open_image(data, what).convert("RGB"), size, method=Image.Resampling.LANCZOS,
                        centering=(0.5, 0.4))


def ghost(data: bytes, size: tuple[int, int]) -> Image.Image:
    """The ghost portrait: grey, contrast stretched, lightened (L, white = no ink)."""
    grey = ImageOps.autocontrast(ImageOps.fit(open_image(data, "portrait").convert("L"), size,
                                              method=Image.Resampling.LANCZOS, centering=(0.5, 0.4)))
    return grey.point(lambda v: 255 - int((255 - v) * GHOST_STRENGTH))


def ink(data: bytes, size: tuple[int, int], what: str = "signature") -> Image.Image:
    """An image contained in `size` as grey ink (L, white = no ink)."""
    return ImageOps.contain(open_image(data, what).convert("L"), size, method=Image.Resampling.LANCZOS)
