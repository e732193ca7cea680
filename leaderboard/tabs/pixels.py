"""Showing decoded pixels on a page: sent inline as a ``data:`` URL, never through Streamlit's media store.

``st.image`` of a PIL image stores the PNG in the server's media store and sends the browser a
``/media/<hash>.png`` address; the store drops a session's files when a later script run no longer
uses them, and a browser that asks after that gets a 404 and shows an empty box (Streamlit issues
#1294, #4825: intermittent, most often on a loaded machine). An inline image arrives with the element
itself, so it is shown whenever the element is.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from spotfake.harness.images import image_data_url


def show_pixels(image: Any, *, width: int, caption: str | None = None) -> None:
    """An RGB PIL image at ``width`` CSS pixels, as lossless PNG inline in the page."""
    st.image(image_data_url(image, "png"), width=width, caption=caption)
