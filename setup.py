"""Only the C extension; everything else about the package is in pyproject.toml.

scrapers/_lexbor_read.c speeds up the list parsers (see scrapers/domread.py). It is
optional: without a C compiler the install goes on and the parsers read through
selectolax instead.
"""

import sys

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "scrapers._lexbor_read",
            ["scrapers/_lexbor_read.c"],
            # dlopen/dlsym live in libdl before glibc 2.34.
            libraries=["dl"] if sys.platform.startswith("linux") else [],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
