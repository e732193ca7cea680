"""Regions: where in an image a model says the forgery is, and where the task says it is.

- :mod:`~harness.regions.rle`: COCO run-length encoding of binary masks (the ``{"size", "counts"}`` objects
  of prediction files and ``samples.jsonl``), checked before any decoding;
- :mod:`~harness.regions.masks`: binary masks from mask images (a stated threshold on soft masks), boxes and
  polygons; resizing to the truth's frame; boxes of connected regions; best-match box IoU;
- :mod:`~harness.regions.text_boxes`: boxes written in a language model's answer (``<box>(x0,y0),(x1,y1)</box>``,
  ``<|box_start|>...<|box_end|>``, JSON ``"bbox_2d"``);
- :mod:`~harness.regions.overlap`: one record's truth (from its task metadata) against its prediction
  (mask, boxes, or boxes in its text): the pixel counts every localisation metric is computed from.
"""
