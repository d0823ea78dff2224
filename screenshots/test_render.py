"""Tests of render.py: `python3 screenshots/test_render.py` (needs Pillow)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402


class ParseTest(unittest.TestCase):
    def test_colours_and_attributes(self):
        text = ("\x1b[1;31mA\x1b[0m\x1b[38;5;208mB\x1b[38:2::10:20:30mC\x1b[38;2;1;2;3;48;5;17mD"
                "\x1b[7mE\x1b[27;39;49mF\n")
        row = render.parse(text, 8, 1)[0]
        a, b, c, d, e, f = (cell[1] for cell in row[:6])
        self.assertTrue(a.bold)
        self.assertEqual(a.fg, render.PALETTE16[1])
        self.assertEqual(b.fg, (255, 135, 0))
        self.assertEqual(c.fg, (10, 20, 30))
        self.assertEqual((d.fg, d.bg), ((1, 2, 3), (0, 0, 95)))
        self.assertTrue(e.reverse)
        self.assertEqual((f.fg, f.bg, f.reverse), (None, None, False))

    def test_state_carries_across_lines_and_wide_chars(self):
        grid = render.parse("\x1b[32mx\ny日z\n", 5, 2)
        self.assertEqual(grid[1][0][1].fg, render.PALETTE16[2])
        self.assertEqual([c[0] for c in grid[1][:4]], ["y", "日", "", "z"])

    def test_other_escapes_are_skipped(self):
        grid = render.parse("\x1b]8;;http://x\x1b\\a\x1b[?25lb\n", 3, 1)
        self.assertEqual("".join(c[0] for c in grid[0]), "ab ")


class RenderTest(unittest.TestCase):
    def test_box_lines_reach_the_cell_edges(self):
        r = render.Renderer(15, 1)
        img = r.render(render.parse("\x1b[31m─│\n", 2, 1))
        red = render.PALETTE16[1]
        y = r.pad + r.ch // 2
        # The horizontal line spans its whole cell, so borders have no gaps.
        self.assertEqual(img.getpixel((r.pad, y)), red)
        self.assertEqual(img.getpixel((r.pad + r.cw - 1, y)), red)
        x = r.pad + r.cw + r.cw // 2
        self.assertEqual(img.getpixel((x, r.pad)), red)
        self.assertEqual(img.getpixel((x, r.pad + r.ch - 1)), red)

    def test_background_and_size(self):
        r = render.Renderer(15, 2)
        img = r.render(render.parse("\x1b[44m \n", 3, 2))
        self.assertEqual(img.size, (3 * r.cw + 2 * r.pad, 2 * r.ch + 2 * r.pad))
        self.assertEqual(img.getpixel((r.pad + 1, r.pad + 1)), render.PALETTE16[4])
        self.assertEqual(img.getpixel((r.pad + r.cw + 1, r.pad + 1)), render.DEFAULT_BG)


if __name__ == "__main__":
    unittest.main()
