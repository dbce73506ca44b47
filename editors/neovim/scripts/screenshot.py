"""Render a real Neovim session with Ghostwriter ghost text (or a next edit) to a PNG, for the README.

Neovim runs in a pseudo-terminal (256 colours, no 'termguicolors': the plain terminal case) against
this checkout's server and the loopback fake backend; the terminal screen is emulated with pyte and
drawn with Pillow. Those two are not project dependencies:

    python -m venv /tmp/shot && /tmp/shot/bin/pip install pyte pillow
    PYTHONPATH=. /tmp/shot/bin/python editors/neovim/scripts/screenshot.py --nvim .venv/bin/nvim \
        --python .venv/bin/python --out docs/images/neovim-ghost-text.png
    # the same with --scene next-edit --out docs/images/neovim-next-edit.png: a rename in a signature,
    # and the next edit the (fake) model proposes for the body, drawn as virtual lines
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import select
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pyte
from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parents[3]
PLUGIN = REPO / "editors" / "neovim"
COLUMNS, ROWS = 92, 20
SOURCE = '''import math


def circle_area(radius):
    """Area of a circle."""
    return math.pi * radius ** 2


def ring_area(outer, inner):
    '''
TYPED = "ret"
SUGGESTION = "urn circle_area(outer) - circle_area(inner)"  # what follows TYPED
# The next-edit scene: `radius` renamed to `r` in circle_area's signature; the model carries it into the body.
RENAME_KEYS = b"4G$F(lciwr\x1b"  # line 4, on `radius`, change the word to `r`, back to Normal mode
NEXT_EDIT_SOURCE = SOURCE.rstrip(" ") + "    return circle_area(outer) - circle_area(inner)\n"
NEXT_EDIT_REGION = NEXT_EDIT_SOURCE.replace("circle_area(radius)", "circle_area(r)").replace("radius ** 2", "r ** 2")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
# xterm's 16 base colours; 16-255 follow the standard cube and grey ramp.
BASE = ["000000", "cd0000", "00cd00", "cdcd00", "0000ee", "cd00cd", "00cdcd", "e5e5e5",
        "7f7f7f", "ff0000", "00ff00", "ffff00", "5c5cff", "ff00ff", "00ffff", "ffffff"]
NAMES = {"black": 0, "red": 1, "green": 2, "brown": 3, "blue": 4, "magenta": 5, "cyan": 6, "white": 7}


def xterm(index: int) -> str:
    if index < 16:
        return BASE[index]
    if index < 232:
        index -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "".join(f"{steps[c]:02x}" for c in (index // 36, index // 6 % 6, index % 6))
    grey = 8 + (index - 232) * 10
    return f"{grey:02x}" * 3


def colour(value: str, default: str, bold: bool = False) -> str:
    if value == "default":
        return default
    if value in NAMES:
        return BASE[NAMES[value] + (8 if bold else 0)]
    if value.startswith("bright"):
        return BASE[NAMES.get(value.removeprefix("bright"), 7) + 8]
    return value if len(value) == 6 else default


def render(screen: pyte.Screen, out: Path) -> None:
    font = ImageFont.truetype(FONT, 16)
    width, height = int(font.getlength("M")), 21
    image = Image.new("RGB", (COLUMNS * width + 16, ROWS * height + 16), "#1e1e1e")
    draw = ImageDraw.Draw(image)
    for row in range(ROWS):
        line = screen.buffer[row]
        for col in range(COLUMNS):
            cell = line[col]
            fg = colour(cell.fg, "d4d4d4", cell.bold)
            bg = colour(cell.bg, "1e1e1e")
            if cell.reverse:
                fg, bg = bg, fg
            x, y = 8 + col * width, 8 + row * height
            draw.rectangle([x, y, x + width, y + height], fill=f"#{bg}")
            draw.text((x, y + 2), cell.data, font=font, fill=f"#{fg}")
    image.save(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nvim", required=True)
    parser.add_argument("--python", required=True, help="interpreter with this checkout installed")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--scene", choices=["ghost-text", "next-edit"], default="ghost-text")
    args = parser.parse_args()
    args.nvim, args.python = (str(Path(p).absolute()) for p in (args.nvim, args.python))  # run from a temp dir
    fake = subprocess.Popen([args.python, "-m", "tests.fakes.openai_server", "--port", "0", "--models", "demo-coder"],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout is not None
        url = fake.stdout.readline().strip()
        rewrite = f"<|editable_region_start|>\n{NEXT_EDIT_REGION}<|editable_region_end|>"
        rules = json.dumps([{"endpoint": "completions", "reply": SUGGESTION if args.scene == "ghost-text" else ""},
                            {"endpoint": "chat", "contains": "+def circle_area(r):", "reply": rewrite}]).encode()
        urllib.request.urlopen(urllib.request.Request(url.removesuffix("/v1") + "/_control/rules", data=rules,
                                                      headers={"Content-Type": "application/json"}), timeout=5)
        with tempfile.TemporaryDirectory() as tmp:
            shoot(args, url, Path(tmp))
    finally:
        fake.terminate()
        fake.wait()


def shoot(args: argparse.Namespace, url: str, tmp: Path) -> None:
    (tmp / "geometry.py").write_text(NEXT_EDIT_SOURCE if args.scene == "next-edit" else SOURCE)
    (tmp / ".git").mkdir()
    pricing = {"demo-coder": {"inputPer1M": 0.3, "cachedInputPer1M": 0.03, "outputPer1M": 1.5, "currency": "USD"}}
    options = {"cmd": [args.python, "-m", "lsp_server"],
               "settings": {"backend": {"baseUrl": url, "model": "demo-coder"}, "completion": {"debounceMs": 0},
                            "nextEdit": {"promptFamily": "qwen"}, "pricing": pricing}}
    setup = f"lua require('ghostwriter').setup(vim.json.decode({json.dumps(json.dumps(options))}))"
    statusline = "set laststatus=2 statusline=%f%=%{v:lua.require'ghostwriter'.statusline()}\\ "
    command = [args.nvim, "--clean", "-i", "NONE", "-n", "--cmd", f"set rtp^={PLUGIN}", "-c", "set notermguicolors",
               "-c", setup, "-c", statusline, "-c", "syntax on", "-c", "edit geometry.py"]
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(REPO), "GHOSTWRITER_CONFIG": os.devnull,
           "GHOSTWRITER_CACHE_DIR": str(tmp / "cache"), "XDG_STATE_HOME": str(tmp / "state"),
           "COLUMNS": str(COLUMNS), "LINES": str(ROWS)}
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(tmp)
        os.execve(command[0], command, env)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    screen = pyte.Screen(COLUMNS, ROWS)
    stream = pyte.ByteStream(screen)

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    stream.feed(os.read(fd, 65536))
                except OSError:
                    return

    pump(6)  # the server starts and warms up
    if args.scene == "next-edit":
        os.write(fd, RENAME_KEYS)  # the rename; after the pause the next edit is drawn below the body's line
        pump(4)
        os.write(fd, b"\x0c")  # CTRL-L: a full redraw (the emulator misplaces some partial redraws)
    else:
        os.write(fd, b"Go" + TYPED.encode())  # a new (auto-indented) line in ring_area's body; the suggestion follows
    pump(4)
    render(screen, args.out)
    os.write(fd, b"\x1b:qa!\r")
    pump(1)
    os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
