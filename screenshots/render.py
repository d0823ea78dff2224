#!/usr/bin/env python3
"""Render a terminal capture with ANSI colours (`tmux capture-pane -e -p`) to a PNG.

Understands SGR: 16, 256 and truecolor foreground/background (`;` and `:` forms), bold, dim,
italic, underline, reverse, hidden, strikethrough. Other escape sequences are skipped. tmux carries
the SGR state from one captured line to the next (it only emits changes), so the state does too.

Box-drawing and block characters are drawn as lines and rectangles instead of font glyphs: a glyph
is shorter than the cell's line height, which would leave gaps between the rows of a border.

Usage: render.py [--cols N] [--rows N] [--font-size PX] [--scale K] INPUT.ans OUTPUT.png
"""

import argparse
import re
import subprocess
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
FONTS = {
    (False, False): "DejaVuSansMono.ttf",
    (True, False): "DejaVuSansMono-Bold.ttf",
    (False, True): "DejaVuSansMono-Oblique.ttf",
    (True, True): "DejaVuSansMono-BoldOblique.ttf",
}

# Windows Terminal's "Campbell" scheme: a common, neutral palette that keeps every colour legible
# on the dark background.
DEFAULT_BG = (12, 12, 12)
DEFAULT_FG = (204, 204, 204)
PALETTE16 = [
    (12, 12, 12), (197, 15, 31), (19, 161, 14), (193, 156, 0),
    (0, 55, 218), (136, 23, 152), (58, 150, 221), (204, 204, 204),
    (118, 118, 118), (231, 72, 86), (22, 198, 12), (249, 241, 165),
    (59, 120, 255), (180, 0, 158), (97, 214, 214), (242, 242, 242),
]


def xterm256(i):
    """RGB of xterm colour index i (0..255)."""
    if i < 16:
        return PALETTE16[i]
    if i < 232:
        i -= 16
        levels = (0, 95, 135, 175, 215, 255)
        return (levels[i // 36], levels[(i // 6) % 6], levels[i % 6])
    v = 8 + 10 * (i - 232)
    return (v, v, v)


class Style:
    __slots__ = ("fg", "bg", "bold", "dim", "italic", "underline", "reverse", "hidden", "strike")

    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None  # None = default, else an (r, g, b) tuple
        self.bg = None
        self.bold = self.dim = self.italic = self.underline = False
        self.reverse = self.hidden = self.strike = False

    def copy(self):
        s = Style()
        for k in self.__slots__:
            setattr(s, k, getattr(self, k))
        return s


def _int(s, default=0):
    try:
        return int(s) if s != "" else default
    except ValueError:
        return default


def _extended_colour(params, i):
    """Parse an extended colour starting at params[i] (the 38/48/58 entry).

    Returns (rgb or None, index of the next unread param)."""
    head = params[i]
    if ":" in head:
        # Colon form keeps everything in one param: 38:5:n, 38:2:r:g:b or 38:2:cs:r:g:b.
        sub = head.split(":")
        if len(sub) >= 3 and sub[1] == "5":
            return xterm256(_int(sub[2]) % 256), i + 1
        if len(sub) >= 5 and sub[1] == "2":
            rgb = sub[-3:] if len(sub) >= 6 else sub[2:5]
            return tuple(max(0, min(255, _int(c))) for c in rgb), i + 1
        return None, i + 1
    # Semicolon form: 38;5;n or 38;2;r;g;b.
    if i + 1 < len(params):
        mode = params[i + 1]
        if mode == "5" and i + 2 < len(params):
            return xterm256(_int(params[i + 2]) % 256), i + 3
        if mode == "2" and i + 4 < len(params):
            rgb = params[i + 2:i + 5]
            return tuple(max(0, min(255, _int(c))) for c in rgb), i + 5
    return None, len(params)


def apply_sgr(style, arg):
    params = arg.split(";") if arg else ["0"]
    i = 0
    while i < len(params):
        p = params[i]
        code = _int(p.split(":")[0])
        if code in (38, 48, 58):
            rgb, i = _extended_colour(params, i)
            if rgb is not None and code == 38:
                style.fg = rgb
            elif rgb is not None and code == 48:
                style.bg = rgb
            continue
        if code == 0:
            style.reset()
        elif code == 1:
            style.bold = True
        elif code == 2:
            style.dim = True
        elif code == 3:
            style.italic = True
        elif code == 4:
            # 4:0 turns underline off; 4, 4:1..4:5 are underline styles, all drawn as one line.
            style.underline = not p.endswith(":0")
        elif code == 7:
            style.reverse = True
        elif code == 8:
            style.hidden = True
        elif code == 9:
            style.strike = True
        elif code == 21:
            style.underline = True
        elif code == 22:
            style.bold = style.dim = False
        elif code == 23:
            style.italic = False
        elif code == 24:
            style.underline = False
        elif code == 27:
            style.reverse = False
        elif code == 28:
            style.hidden = False
        elif code == 29:
            style.strike = False
        elif 30 <= code <= 37:
            style.fg = PALETTE16[code - 30]
        elif code == 39:
            style.fg = None
        elif 40 <= code <= 47:
            style.bg = PALETTE16[code - 40]
        elif code == 49:
            style.bg = None
        elif 90 <= code <= 97:
            style.fg = PALETTE16[code - 90 + 8]
        elif 100 <= code <= 107:
            style.bg = PALETTE16[code - 100 + 8]
        # Anything else (blink, overline, fonts, underline colour reset...) has no pixels here.
        i += 1


ESCAPE = re.compile(
    r"\x1b\[([0-9;:?<=>]*)([ -/]*)([@-~])"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC (e.g. hyperlinks), ended by BEL or ST
    r"|\x1b[PX^_][^\x1b]*\x1b\\"  # DCS / SOS / PM / APC
    r"|\x1b[^\[\]PX^_]"  # any other two-byte escape
)


def char_width(ch):
    if unicodedata.combining(ch) or ch in "\u200b\u200c\u200d\ufe0f":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def parse(text, cols, rows):
    """Return a rows x cols grid of (text, Style, width) cells; width 0 marks a wide char's tail."""
    blank = Style()
    grid = [[(" ", blank, 1) for _ in range(cols)] for _ in range(rows)]
    style = Style()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for y, line in enumerate(lines[:rows]):
        x = 0
        pos = 0
        while pos < len(line):
            m = ESCAPE.match(line, pos) if line[pos] == "\x1b" else None
            if m:
                if m.group(3) == "m" and not m.group(2):
                    apply_sgr(style, m.group(1))
                pos = m.end()
                continue
            ch = line[pos]
            pos += 1
            if ch == "\x1b" or ch == "\r":
                continue
            if ch == "\t":
                nxt = min(cols, (x // 8 + 1) * 8)
                for xx in range(x, nxt):
                    grid[y][xx] = (" ", style.copy(), 1)
                x = nxt
                continue
            w = char_width(ch)
            if w == 0:
                if x > 0:
                    # Attach the combining mark to the cell before (or before a wide char's tail).
                    px = x - 1 if grid[y][x - 1][2] != 0 else x - 2
                    t, s, cw = grid[y][px]
                    grid[y][px] = (t + ch, s, cw)
                continue
            if x + w > cols:
                break
            grid[y][x] = (ch, style.copy(), w)
            if w == 2:
                grid[y][x + 1] = ("", style.copy(), 0)
            x += w
    return grid


# Box drawing: (up, right, down, left) arm weights; 1 light, 2 heavy, 3 double.
BOX = {
    "─": (0, 1, 0, 1), "━": (0, 2, 0, 2), "│": (1, 0, 1, 0), "┃": (2, 0, 2, 0),
    "┌": (0, 1, 1, 0), "┍": (0, 2, 1, 0), "┎": (0, 1, 2, 0), "┏": (0, 2, 2, 0),
    "┐": (0, 0, 1, 1), "┑": (0, 0, 1, 2), "┒": (0, 0, 2, 1), "┓": (0, 0, 2, 2),
    "└": (1, 1, 0, 0), "┕": (1, 2, 0, 0), "┖": (2, 1, 0, 0), "┗": (2, 2, 0, 0),
    "┘": (1, 0, 0, 1), "┙": (1, 0, 0, 2), "┚": (2, 0, 0, 1), "┛": (2, 0, 0, 2),
    "├": (1, 1, 1, 0), "┝": (1, 2, 1, 0), "┠": (2, 1, 2, 0), "┣": (2, 2, 2, 0),
    "┤": (1, 0, 1, 1), "┥": (1, 0, 1, 2), "┨": (2, 0, 2, 1), "┫": (2, 0, 2, 2),
    "┬": (0, 1, 1, 1), "┯": (0, 2, 1, 2), "┰": (0, 1, 2, 1), "┳": (0, 2, 2, 2),
    "┴": (1, 1, 0, 1), "┷": (1, 2, 0, 2), "┸": (2, 1, 0, 1), "┻": (2, 2, 0, 2),
    "┼": (1, 1, 1, 1), "┿": (1, 2, 1, 2), "╂": (2, 1, 2, 1), "╋": (2, 2, 2, 2),
    "═": (0, 3, 0, 3), "║": (3, 0, 3, 0),
    "╒": (0, 3, 1, 0), "╓": (0, 1, 3, 0), "╔": (0, 3, 3, 0),
    "╕": (0, 0, 1, 3), "╖": (0, 0, 3, 1), "╗": (0, 0, 3, 3),
    "╘": (1, 3, 0, 0), "╙": (3, 1, 0, 0), "╚": (3, 3, 0, 0),
    "╛": (1, 0, 0, 3), "╜": (3, 0, 0, 1), "╝": (3, 0, 0, 3),
    "╞": (1, 3, 1, 0), "╟": (3, 1, 3, 0), "╠": (3, 3, 3, 0),
    "╡": (1, 0, 1, 3), "╢": (3, 0, 3, 1), "╣": (3, 0, 3, 3),
    "╤": (0, 3, 1, 3), "╥": (0, 1, 3, 1), "╦": (0, 3, 3, 3),
    "╧": (1, 3, 0, 3), "╨": (3, 1, 0, 1), "╩": (3, 3, 0, 3),
    "╪": (1, 3, 1, 3), "╫": (3, 1, 3, 1), "╬": (3, 3, 3, 3),
    "╴": (0, 0, 0, 1), "╵": (1, 0, 0, 0), "╶": (0, 1, 0, 0), "╷": (0, 0, 1, 0),
    "╸": (0, 0, 0, 2), "╹": (2, 0, 0, 0), "╺": (0, 2, 0, 0), "╻": (0, 0, 2, 0),
}
# Rounded corners: the two arms they join, and the PIL arc angles (clockwise from 3 o'clock).
ROUNDED = {"╭": ("right", "down", 180, 270), "╮": ("left", "down", 270, 360),
           "╯": ("left", "up", 0, 90), "╰": ("right", "up", 90, 180)}


class Renderer:
    def __init__(self, font_size, scale):
        size = font_size * scale
        self.fonts = {k: ImageFont.truetype(FONT_DIR + f, size) for k, f in FONTS.items()}
        regular = self.fonts[(False, False)]
        ascent, descent = regular.getmetrics()
        self.cw = round(regular.getlength("M"))
        self.ch = round((ascent + descent) * 1.15)
        self.baseline = (self.ch - (ascent + descent)) // 2 + ascent
        self.light = max(1, round(self.cw / 9))
        self.heavy = self.light * 2 + 1
        self.pad = 2 * self.cw
        self.size = size
        self.fallback = {}  # char -> font that has it (None: no font has it)
        self.fallback_fonts = {}  # path -> loaded font

    def has_glyph(self, font, ch):
        # FreeType draws .notdef (a box) for a missing glyph: compare with a surely missing char.
        key = id(font)
        if not hasattr(self, "_notdef"):
            self._notdef = {}
        if key not in self._notdef:
            m = font.getmask("\U0010fffd")
            self._notdef[key] = (m.size, bytes(m))
        m = font.getmask(ch)
        return (m.size, bytes(m)) != self._notdef[key]

    def font_for(self, text, bold, italic):
        """The monospace font, or for a char it lacks, DejaVu Sans or whatever fontconfig has."""
        font = self.fonts[(bold, italic)]
        ch = text[0]
        if ord(ch) < 0x2000 or self.has_glyph(font, ch):
            return font
        if ch not in self.fallback:
            found = None
            candidates = [FONT_DIR + "DejaVuSans.ttf"]
            try:
                out = subprocess.run(["fc-match", "-f", "%{file}", f":charset={ord(ch):x}"],
                                     capture_output=True, text=True, timeout=5).stdout
                if out:
                    candidates.append(out)
            except (OSError, subprocess.SubprocessError):
                pass
            for path in candidates:
                if path not in self.fallback_fonts:
                    try:
                        self.fallback_fonts[path] = ImageFont.truetype(path, self.size)
                    except OSError:
                        self.fallback_fonts[path] = None
                f = self.fallback_fonts[path]
                if f is not None and self.has_glyph(f, ch):
                    found = f
                    break
            self.fallback[ch] = found
        return self.fallback[ch] or font

    def colours(self, s):
        fg = s.fg or DEFAULT_FG
        bg = s.bg or DEFAULT_BG
        if s.reverse:
            fg, bg = bg, fg
        if s.dim:
            fg = tuple((a + b) // 2 for a, b in zip(fg, bg))
        if s.hidden:
            fg = bg
        return fg, bg

    def hline(self, d, x0, x1, y, w, fg):
        d.rectangle([x0, y - w // 2, x1 - 1, y - w // 2 + w - 1], fill=fg)

    def vline(self, d, x, y0, y1, w, fg):
        d.rectangle([x - w // 2, y0, x - w // 2 + w - 1, y1 - 1], fill=fg)

    def box(self, d, ch, x, y, fg):
        """Draw a box-drawing char in the cell at pixel (x, y); False if it is not one."""
        cw, chh = self.cw, self.ch
        cx, cy = x + cw // 2, y + chh // 2
        if ch in ROUNDED:
            h, v, a0, a1 = ROUNDED[ch]
            r = min(cw, chh) // 2
            w = self.light
            ox = cx + r if h == "right" else cx - r
            oy = cy + r if v == "down" else cy - r
            if h == "right":
                self.hline(d, ox, x + cw, cy, w, fg)
            else:
                self.hline(d, x, ox + 1, cy, w, fg)
            if v == "down":
                self.vline(d, cx, oy, y + chh, w, fg)
            else:
                self.vline(d, cx, y, oy + 1, w, fg)
            off = w // 2
            d.arc([ox - r - off, oy - r - off, ox + r - off + w - 1, oy + r - off + w - 1],
                  a0, a1, fill=fg, width=w)
            return True
        arms = BOX.get(ch)
        if arms is None:
            return False
        up, right, down, left = arms
        g = max(2, self.light * 2)  # half the distance between the two lines of a double arm
        half = self.light // 2
        vcross = max(up, down)  # what a horizontal arm meets at the centre
        hcross = max(left, right)
        for weight, horiz, sign in ((left, True, -1), (right, True, 1), (up, False, -1),
                                    (down, False, 1)):
            if not weight:
                continue
            c, edge = (cx, x if sign < 0 else x + cw) if horiz else (cy, y if sign < 0 else y + chh)
            mid = cy if horiz else cx
            cross = vcross if horiz else hcross
            # Side arms of this arm's two sides: for a horizontal arm, up and down.
            side_a, side_b = (up, down) if horiz else (left, right)
            if weight == 3:
                # Each of the two lines stops at the near line of a double arm on its side (inner
                # corner) or runs on to the far line where that side is open (outer corner).
                o = g if cross == 3 else 0
                lines = ((mid - g, side_a), (mid + g, side_b))
                w = self.light
                for pos, side in lines:
                    inner = c + sign * o if side else c - sign * o
                    stop = inner - sign * half if side else inner - sign * (half + 1)
                    a, b = sorted((stop, edge))
                    if horiz:
                        self.hline(d, a, b + (1 if sign < 0 else 0), pos, w, fg)
                    else:
                        self.vline(d, pos, a, b + (1 if sign < 0 else 0), w, fg)
                continue
            w = self.heavy if weight == 2 else self.light
            if cross == 3:
                # A single arm meeting a double one: stop at its near line where the double one
                # runs straight through, else reach its far line (the corner of ╓, ╕...).
                through = (up and down) if horiz else (left and right)
                reach = -g if through else g
            else:
                reach = (self.heavy if cross == 2 else self.light) // 2
            stop = c - sign * reach
            a, b = sorted((stop, edge))
            if horiz:
                self.hline(d, a, b + 1, mid, w, fg)
            else:
                self.vline(d, mid, a, b + 1, w, fg)
        return True

    def block(self, d, ch, x, y, fg, bg):
        """Block elements (bars, gauges): exact rectangles; False if ch is not one."""
        o = ord(ch)
        cw, chh = self.cw, self.ch
        if o == 0x2588:
            d.rectangle([x, y, x + cw - 1, y + chh - 1], fill=fg)
        elif o == 0x2580:
            d.rectangle([x, y, x + cw - 1, y + chh // 2 - 1], fill=fg)
        elif 0x2581 <= o <= 0x2587:  # lower 1/8 .. 7/8
            h = round(chh * (o - 0x2580) / 8)
            d.rectangle([x, y + chh - h, x + cw - 1, y + chh - 1], fill=fg)
        elif 0x2589 <= o <= 0x258F:  # left 7/8 .. 1/8
            wpx = max(1, round(cw * (0x2590 - o) / 8))
            d.rectangle([x, y, x + wpx - 1, y + chh - 1], fill=fg)
        elif o == 0x2590:
            d.rectangle([x + cw // 2, y, x + cw - 1, y + chh - 1], fill=fg)
        elif o == 0x2594:
            d.rectangle([x, y, x + cw - 1, y + max(1, chh // 8) - 1], fill=fg)
        elif o == 0x2595:
            d.rectangle([x + cw - max(1, cw // 8), y, x + cw - 1, y + chh - 1], fill=fg)
        elif 0x2591 <= o <= 0x2593:  # light / medium / dark shade
            k = (o - 0x2590) / 4
            mix = tuple(round(b + (f - b) * k) for f, b in zip(fg, bg))
            d.rectangle([x, y, x + cw - 1, y + chh - 1], fill=mix)
        else:
            return False
        return True

    def render(self, grid):
        rows, cols = len(grid), len(grid[0])
        img = Image.new("RGB", (cols * self.cw + 2 * self.pad, rows * self.ch + 2 * self.pad),
                        DEFAULT_BG)
        d = ImageDraw.Draw(img)
        for r, row in enumerate(grid):
            y = self.pad + r * self.ch
            for c, (text, s, w) in enumerate(row):
                if w == 0:
                    continue
                x = self.pad + c * self.cw
                fg, bg = self.colours(s)
                if bg != DEFAULT_BG:
                    d.rectangle([x, y, x + w * self.cw - 1, y + self.ch - 1], fill=bg)
                if text.strip() and not s.hidden:
                    ch0 = text[0]
                    if len(text) > 1 or not (self.box(d, ch0, x, y, fg)
                                             or self.block(d, ch0, x, y, fg, bg)):
                        font = self.font_for(text, s.bold, s.italic)
                        d.text((x, y + self.baseline), text, font=font, fill=fg, anchor="ls")
                if s.underline:
                    self.hline(d, x, x + w * self.cw, y + self.baseline + self.light * 2,
                               self.light, fg)
                if s.strike:
                    self.hline(d, x, x + w * self.cw, y + self.ch // 2, self.light, fg)
        return img


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=32)
    ap.add_argument("--font-size", type=int, default=15)
    ap.add_argument("--scale", type=int, default=1, help="pixel multiplier (2 for HiDPI)")
    a = ap.parse_args()
    with open(a.input, encoding="utf-8", errors="replace") as f:
        text = f.read()
    grid = parse(text, a.cols, a.rows)
    Renderer(a.font_size, a.scale).render(grid).save(a.output, optimize=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
