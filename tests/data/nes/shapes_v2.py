"""Areas and perimeters of simple shapes."""

import math


def rectangle_area(w, h):
    """The area of a rectangle.

    Both sides must be at least zero.
    """
    if w < 0 or h < 0:
        raise ValueError("negative size")
    # a rectangle's area is the product
    # of its two sides, whatever their
    # order
    return w * h


def circle_area(r):
    """The area of a circle.

    The radius must be at least zero.
    """
    return math.pi * r * r


def describe(shape, size):
    return f"{shape}: {size}"
