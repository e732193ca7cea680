"""Boxes in language models' answers: Qwen-VL / Qwen2-VL tags on their 0-1000 grid, Qwen2.5-VL's JSON
``bbox_2d`` in pixels, in the varied ways answers write them; and what is never read as a box."""

from __future__ import annotations

import pytest

from spotfake.harness.regions.text_boxes import GRID, TextBox, pixel_boxes, text_boxes

PIXELS = None

CASES: list[tuple[str, list[TextBox]]] = [
    ("<ref>the hand</ref><box>(120,340),(560,980)</box>", [TextBox((120, 340, 560, 980), GRID)]),
    ("Fake. The tampered area: <box>(10, 20), (30, 40)</box>.", [TextBox((10, 20, 30, 40), GRID)]),
    ("<box>(10,20)(30,40)</box>", [TextBox((10, 20, 30, 40), GRID)]),
    ("<box>[10, 20, 30, 40]</box>", [TextBox((10, 20, 30, 40), GRID)]),
    ("<|box_start|>(5,6),(700,800)<|box_end|>", [TextBox((5, 6, 700, 800), GRID)]),
    (
        "two: <box>(1,2),(3,4)</box> and <box>(5,6),(7,8)</box>",
        [
            TextBox((1, 2, 3, 4), GRID),
            TextBox((5, 6, 7, 8), GRID),
        ],
    ),
    ("reversed <box>(300,400),(100,200)</box>", [TextBox((100, 200, 300, 400), GRID)]),
    ('{"bbox_2d": [12, 34, 56, 78], "label": "face"}', [TextBox((12, 34, 56, 78), PIXELS)]),
    (
        '```json\n[\n  {"bbox_2d": [1, 2, 3, 4], "label": "hand"},\n  {"bbox_2d": [5.5, 6, 7, 8.25]}\n]\n```',
        [TextBox((1, 2, 3, 4), PIXELS), TextBox((5.5, 6, 7, 8.25), PIXELS)],
    ),
    ("{'bbox_2d': [10,10,20,20], 'label': 'text'}", [TextBox((10, 10, 20, 20), PIXELS)]),
    (
        '<think>The shadow is wrong.</think><answer>{"answer": "fake", "bbox_2d": [0, 0, 64, 32]}</answer>',
        [TextBox((0, 0, 64, 32), PIXELS)],
    ),
    (
        'first <box>(1,1),(2,2)</box> then {"bbox_2d": [9, 9, 10, 10]} then <box>(3,3),(4,4)</box>',
        [TextBox((1, 1, 2, 2), GRID), TextBox((9, 9, 10, 10), PIXELS), TextBox((3, 3, 4, 4), GRID)],
    ),
    ("This image is real. No manipulated region.", []),
    ("The box [10, 20, 30, 40] is odd", []),  # a bare list is not a box
    ('{"bbox": [10, 20, 30, 40]}', []),  # COCO's bbox is [x, y, w, h]: not read
    ("<box>(1,2),(3,4)", []),  # a tag never closed
    ("<box>(1,2)</box>", []),  # one corner
    ('{"bbox_2d": [1, 2, 3]}', []),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_boxes_are_read_from_varied_answers(text: str, expected: list[TextBox]) -> None:
    assert text_boxes(text) == expected


def test_none_has_no_boxes() -> None:
    assert text_boxes(None) == []


def test_grid_boxes_scale_to_the_image_and_pixel_boxes_do_not() -> None:
    boxes = text_boxes('<box>(100,500),(600,1000)</box> {"bbox_2d": [1, 2, 3, 4]}')
    assert pixel_boxes(boxes, height=200, width=400) == [(40.0, 100.0, 240.0, 200.0), (1.0, 2.0, 3.0, 4.0)]
