"""toolkit-files: the files of one directory as LLM tools, published as the pack ``files``.

Installed, the pack is found through its entry point (``toolkit.packs``)::

    from toolkit import Registry

    registry = Registry()
    registry.add_pack("files", config={"root": "notes"})  # files_list, files_read...

or only the tools that change nothing: ``add_pack(..., exclude_tags={"write"})``.

``share`` signs its links with the secret ``FILES_SHARE_KEY`` (see ``verify_link``).
"""

from __future__ import annotations

from toolkit.packs import EvalCase, Expect, Pack, matches
from toolkit_files._toolbox import SHARE_KEY, Files, FilesConfig, verify_link

__all__ = ["SHARE_KEY", "Files", "FilesConfig", "pack", "verify_link"]

pack = Pack(
    name="files",
    description="List, read, search, write, delete and share the files of one directory.",
    tools=Files,  # a toolbox class: its constructor takes the FilesConfig
    config=FilesConfig,
    evals=[
        EvalCase(
            "What is in my notes folder?",
            expect=[Expect("list", {"path": matches(r"(\./)?notes/?")})],
            name="list a folder",
        ),
        EvalCase(
            "Show me what notes/todo.txt says.",
            expect=[Expect("read", {"path": matches(r"(\./)?notes/todo\.txt")})],
            name="read a file",
        ),
        EvalCase(
            "Which of my files mention the dentist?",
            expect=[Expect("search", {"text": matches(r"dentist'?s?")})],
            name="search the files",
        ),
        EvalCase(
            "Save the text 'buy milk' in a new file called shopping.txt.",
            expect=[
                Expect(
                    "write",
                    {
                        "path": matches(r"(\./)?shopping\.txt"),
                        "content": matches(r"buy milk\.?\s*"),
                    },
                )
            ],
            name="write a file",
        ),
        EvalCase(
            "Give me a link to report.txt that I can send to Sam.",
            expect=[Expect("share", {"path": matches(r"(\./)?report\.txt")})],
            name="share a file",
        ),
        EvalCase("What is the capital of France?", expect=[], name="no tool for general questions"),
    ],
)
