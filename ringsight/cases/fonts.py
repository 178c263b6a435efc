"""Finding a font that has Chinese glyphs, for the referral PDF and the network picture.

PDF viewers do not substitute fonts reliably, so the referral PDF embeds one
(subset to the characters used). The search order: the ``cases.font_path``
setting, then the CJK fonts Debian and most distributions ship
(``fonts-noto-cjk``, WenQuanYi, AR PL, Droid), then whatever fontconfig
(``fc-list :lang=zh``) knows. In a ``.ttc`` collection the Simplified Chinese
face (``… SC``) is preferred. Without any, :class:`FontMissing` says what to
install.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ringsight.config import Settings, get_settings
from ringsight.errors import RingSightError

CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simsun.ttc",
)
_PROBE = "医保基金移送"


class FontMissing(RingSightError):
    """No font with Chinese glyphs could be found."""

    exit_code = 6


@dataclass(frozen=True)
class CjkFont:
    """A font file, the face to use inside it, its family name, and a bold companion if one exists."""

    path: Path
    index: int
    family: str
    bold_path: Path | None = None
    bold_index: int = 0


def _open_faces(path: Path) -> list:  # list of fontTools TTFont, opened lazily
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() in (".ttc", ".otc"):
        return list(TTCollection(str(path), lazy=True).fonts)
    return [TTFont(str(path), lazy=True)]


def _pick(path: Path, index: int | None) -> CjkFont | None:
    """The face to use in a font file: the configured one, else a Simplified Chinese one, else the first.

    Only the chosen face's character map is read (CJK maps are large), to
    check it has the glyphs of a few common characters.
    """
    try:
        faces = _open_faces(path)
        families = [f["name"].getDebugName(1) or path.stem for f in faces]
        if index is None:
            index = next((i for i, name in enumerate(families) if name.endswith(" SC")), 0)
        if not 0 <= index < len(faces):
            return None
        cmap = faces[index].getBestCmap() or {}
    except Exception:
        return None  # an unreadable font is simply not a candidate
    if not all(ord(ch) in cmap for ch in _PROBE):
        return None
    bold = _bold_sibling(path)
    return CjkFont(path=path, index=index, family=families[index], bold_path=bold, bold_index=index if bold else 0)


def _bold_sibling(path: Path) -> Path | None:
    for old in ("-Regular", "Regular"):
        if old in path.name:
            candidate = path.with_name(path.name.replace(old, old.replace("Regular", "Bold"), 1))
            if candidate.exists():
                return candidate
    return None


def _fontconfig_candidates() -> list[str]:
    if not shutil.which("fc-list"):
        return []
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})


@lru_cache(maxsize=4)
def _find(font_path: str | None, font_index: int | None) -> CjkFont:
    if font_path:
        path = Path(font_path).expanduser()
        found = _pick(path, font_index) if path.exists() else None
        if found is None:
            raise FontMissing(
                f"The configured font {path} does not exist or has no Chinese glyphs"
                + (f" in face {font_index}" if font_index is not None else "")
                + ".",
                "Point RINGSIGHT_CASES__FONT_PATH at a TTF/OTF/TTC font with Chinese glyphs, "
                "or unset it to use an installed one (Debian: apt-get install fonts-noto-cjk).",
            )
        return found
    for candidate in (*CANDIDATES, *_fontconfig_candidates()):
        path = Path(candidate)
        if path.exists() and (found := _pick(path, None)) is not None:
            return found
    raise FontMissing(
        "No font with Chinese glyphs was found, so the referral PDF cannot render Chinese text.",
        "Install one (Debian/Ubuntu: apt-get install fonts-noto-cjk) or set RINGSIGHT_CASES__FONT_PATH "
        "to a TTF/OTF/TTC font with Chinese glyphs.",
    )


def find_cjk_font(settings: Settings | None = None) -> CjkFont:
    """The CJK font to embed, following the search order above; raises :class:`FontMissing`."""
    cfg = (settings or get_settings()).cases
    return _find(cfg.font_path, cfg.font_index)
