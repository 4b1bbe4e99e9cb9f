"""Printed data pages: templates as data, one Pillow renderer, and the OCR print check of the MRZ."""

from mrtd.layouts.page import PageData
from mrtd.layouts.qa import PrintCheck, PrintQualityError, check_print, mrz_image, verify_print
from mrtd.layouts.render import LayoutError, RenderedSide, page_size_px, pdf_bytes, png_bytes, render, write
from mrtd.layouts.template import MrzPlacement, Template, check_geometry, load_template, parse_template
from mrtd.layouts.viewmodel import page_from_document

__all__ = [
    "LayoutError",
    "MrzPlacement",
    "PageData",
    "PrintCheck",
    "PrintQualityError",
    "RenderedSide",
    "Template",
    "check_geometry",
    "check_print",
    "load_template",
    "mrz_image",
    "page_from_document",
    "page_size_px",
    "parse_template",
    "pdf_bytes",
    "png_bytes",
    "render",
    "verify_print",
    "write",
]
