"""Draw the digital sticker of "Ett jämställt Västmanland" (formsvc/static/sticker.png).

Run once when the design changes: python scripts/draw_sticker.py. The PNG is committed.
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIZE = 480
OUT = Path(__file__).resolve().parent.parent / "formsvc" / "static" / "sticker.png"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # Debian's fonts-dejavu-core
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
TEAL, PLUM, WHITE = (0, 95, 115), (120, 40, 110), (255, 255, 255)


def main() -> None:
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, SIZE - 8, SIZE - 8), fill=TEAL, outline=WHITE, width=10)
    draw.ellipse((40, 40, SIZE - 40, SIZE - 40), outline=WHITE, width=4)
    # The equals sign: two bars of the same length, one in each colour.
    draw.rounded_rectangle((140, 170, 340, 205), radius=16, fill=WHITE)
    draw.rounded_rectangle((140, 230, 340, 265), radius=16, fill=PLUM, outline=WHITE, width=4)
    title = ImageFont.truetype(FONT_BOLD, 40)
    small = ImageFont.truetype(FONT, 24)
    draw.text((SIZE / 2, 110), "Ett jämställt", font=title, fill=WHITE, anchor="mm")
    draw.text((SIZE / 2, 330), "VÄSTMANLAND", font=title, fill=WHITE, anchor="mm")
    draw.text((SIZE / 2, 380), "ansluten till länsstrategin", font=small, fill=WHITE, anchor="mm")
    image.save(OUT, optimize=True)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
