"""Areas and perimeters of simple shapes."""

import math


def rectangle_area(width, height):
    """The area of a rectangle.

    Both sides must be at least zero.
    """
    if width < 0 or height < 0:
        raise ValueError("negative size")
    # a rectangle's area is the product
    # of its two sides, whatever their
    # order
    return width * height


def circle_area(radius):
    """The area of a circle.

    The radius must be at least zero.
    """
    return math.pi * radius * radius


def describe(shape, size):
    return f"{shape}: {size}"
