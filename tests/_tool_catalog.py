"""A synthetic catalog of realistic tools, for the tool search's tests and benchmark.

``catalog(200)`` gives 200 tools over twenty domains (weather, calendar, email, files,
database, git, payments...), named in the styles real catalogs mix (``email_send``,
``getWeatherForecast``, ``git-commit``), each with a description and documented parameters,
as an MCP server or a pack would deliver them (``Tool.from_schema``). Past the hand-written
tools, names repeat the domains with a numbered suffix, so any size can be built.
"""

from __future__ import annotations

from typing import Any

from toolkit import Tool

# domain -> name style, then (action, description, {parameter: description})
_DOMAINS: dict[str, tuple[str, list[tuple[str, str, dict[str, str]]]]] = {
    "email": (
        "snake",
        [
            (
                "send",
                "Send an email message to one or more recipients.",
                {
                    "to": "Recipient email addresses.",
                    "subject": "Subject line.",
                    "body": "Message text.",
                    "cc": "Addresses to copy.",
                },
            ),
            (
                "list inbox",
                "List the newest messages in the mailbox inbox.",
                {"folder": "Mailbox folder, e.g. INBOX.", "limit": "How many messages."},
            ),
            (
                "read",
                "Read one email message with its headers and body.",
                {"message_id": "The message's id."},
            ),
            (
                "reply",
                "Reply to an email message, quoting it.",
                {"message_id": "The message answered.", "body": "Reply text."},
            ),
            ("delete", "Move an email message to the trash.", {"message_id": "The message."}),
            (
                "search",
                "Search mail by sender, subject or words in the body.",
                {"query": "Words to look for.", "sender": "Only from this address."},
            ),
            (
                "create draft",
                "Save an unsent email draft for later.",
                {"to": "Recipients.", "body": "Draft text."},
            ),
            (
                "add label",
                "Attach a label to a mail message.",
                {"message_id": "The message.", "label": "Label name."},
            ),
        ],
    ),
    "weather": (
        "camel",
        [
            (
                "get current",
                "Get the current weather conditions for a city.",
                {"city": "City name, e.g. Paris.", "unit": "celsius or fahrenheit."},
            ),
            (
                "get forecast",
                "Get the weather forecast for the next days.",
                {"city": "City name.", "days": "Number of days ahead."},
            ),
            (
                "get alerts",
                "List severe weather alerts (storms, floods) for a region.",
                {"region": "Region or country code."},
            ),
            (
                "get air quality",
                "Get the air quality index and pollen levels.",
                {"city": "City name."},
            ),
            (
                "get sunrise",
                "Get sunrise and sunset times for a place and date.",
                {"latitude": "Degrees north.", "longitude": "Degrees east.", "date": "ISO date."},
            ),
        ],
    ),
    "calendar": (
        "snake",
        [
            (
                "create event",
                "Schedule a new calendar event or meeting.",
                {
                    "title": "Event title.",
                    "start": "Start time, ISO 8601.",
                    "end": "End time.",
                    "attendees": "People invited.",
                },
            ),
            (
                "list events",
                "List calendar events between two dates.",
                {"start": "From this date.", "end": "Until this date."},
            ),
            ("delete event", "Cancel and remove a calendar event.", {"event_id": "The event."}),
            (
                "update event",
                "Move or edit an existing calendar event.",
                {"event_id": "The event.", "start": "New start time."},
            ),
            (
                "find free time",
                "Find free time slots shared by several people's calendars.",
                {"people": "Email addresses.", "duration_minutes": "Length of the slot."},
            ),
            (
                "respond invitation",
                "Accept or decline a meeting invitation.",
                {"event_id": "The invitation.", "answer": "accept, decline or maybe."},
            ),
        ],
    ),
    "files": (
        "snake",
        [
            ("read", "Read a text file from the workspace.", {"path": "File path."}),
            (
                "write",
                "Write text to a file, replacing its contents.",
                {"path": "File path.", "content": "The text to write."},
            ),
            (
                "list directory",
                "List the files and folders in a directory.",
                {"path": "Directory path.", "recursive": "Include subfolders."},
            ),
            ("delete", "Delete a file from disk.", {"path": "File path."}),
            ("move", "Move or rename a file.", {"source": "From path.", "target": "To path."}),
            (
                "search content",
                "Search file contents for a pattern, like grep.",
                {"pattern": "Text or regular expression.", "path": "Where to look."},
            ),
            ("get info", "Get a file's size, owner and modification time.", {"path": "Path."}),
        ],
    ),
    "db": (
        "snake",
        [
            (
                "query",
                "Run a read-only SQL query against the database and return rows.",
                {"sql": "The SELECT statement.", "params": "Bound parameters."},
            ),
            (
                "execute",
                "Execute a SQL statement that changes data (insert, update, delete).",
                {"sql": "The statement."},
            ),
            ("list tables", "List the tables of the database schema.", {}),
            (
                "describe table",
                "Describe a table's columns, types and indexes.",
                {"table": "Table name."},
            ),
            (
                "backup",
                "Create a backup snapshot of the database.",
                {"destination": "Where to store the dump."},
            ),
        ],
    ),
    "git": (
        "kebab",
        [
            (
                "commit",
                "Record staged changes in the repository with a commit message.",
                {"message": "Commit message.", "all": "Stage modified files first."},
            ),
            ("status", "Show the working tree status: modified, staged and untracked files.", {}),
            (
                "diff",
                "Show changes between commits or the working tree.",
                {"ref": "Commit or branch to compare with."},
            ),
            (
                "log",
                "Show the commit history of a branch.",
                {"branch": "Branch name.", "max_count": "How many commits."},
            ),
            (
                "create branch",
                "Create a new git branch from a commit.",
                {"name": "Branch name.", "start_point": "Commit to start from."},
            ),
            (
                "push",
                "Push local commits to the remote repository.",
                {"remote": "Remote name.", "branch": "Branch to push."},
            ),
            (
                "pull",
                "Fetch and merge changes from the remote repository.",
                {"remote": "Remote name."},
            ),
        ],
    ),
    "payments": (
        "snake",
        [
            (
                "create charge",
                "Charge a customer's card for an amount of money.",
                {
                    "amount_cents": "Amount in cents.",
                    "currency": "ISO currency code.",
                    "customer_id": "The customer.",
                },
            ),
            (
                "refund",
                "Refund a payment to the customer, in full or in part.",
                {"payment_id": "The payment.", "amount_cents": "Amount to return."},
            ),
            ("list invoices", "List the invoices of a customer.", {"customer_id": "Customer."}),
            (
                "create invoice",
                "Create and send an invoice for billing a customer.",
                {"customer_id": "Customer.", "items": "Line items."},
            ),
            ("get balance", "Get the account balance available for payouts.", {}),
            (
                "create subscription",
                "Subscribe a customer to a recurring plan.",
                {"customer_id": "Customer.", "plan": "Plan id."},
            ),
        ],
    ),
    "slack": (
        "snake",
        [
            (
                "post message",
                "Post a chat message to a Slack channel.",
                {"channel": "Channel name.", "text": "Message text."},
            ),
            ("list channels", "List the Slack channels of the workspace.", {}),
            (
                "add reaction",
                "React to a chat message with an emoji.",
                {"channel": "Channel.", "timestamp": "Message time.", "emoji": "Emoji name."},
            ),
            (
                "get thread",
                "Read the replies of a chat thread.",
                {"channel": "Channel.", "thread_ts": "Thread timestamp."},
            ),
        ],
    ),
    "sms": (
        "snake",
        [
            (
                "send",
                "Send a text message (SMS) to a phone number.",
                {"phone_number": "Number in E.164 form.", "text": "Message text."},
            ),
            ("list received", "List text messages received by the phone number.", {}),
        ],
    ),
    "crm": (
        "camel",
        [
            (
                "create contact",
                "Create a contact person in the CRM.",
                {"name": "Full name.", "email": "Email address.", "company": "Employer."},
            ),
            (
                "find contact",
                "Find CRM contacts by name, email or company.",
                {"query": "Words to look for."},
            ),
            (
                "update deal",
                "Update a sales deal's stage or amount.",
                {"deal_id": "The deal.", "stage": "Pipeline stage."},
            ),
            ("list deals", "List open sales deals in the pipeline.", {"owner": "Sales rep."}),
            (
                "log call",
                "Log a phone call with a contact.",
                {"contact_id": "The contact.", "notes": "What was said."},
            ),
        ],
    ),
    "maps": (
        "snake",
        [
            (
                "geocode",
                "Turn a street address into latitude and longitude.",
                {"address": "Street address."},
            ),
            (
                "directions",
                "Get driving, walking or transit directions between two places.",
                {"origin": "Start address.", "destination": "End address.", "mode": "Travel mode."},
            ),
            (
                "nearby places",
                "Find places nearby: restaurants, shops, hospitals.",
                {
                    "latitude": "Degrees north.",
                    "longitude": "Degrees east.",
                    "kind": "Type of place.",
                },
            ),
            (
                "distance",
                "Compute the travel distance and time between two places.",
                {"origin": "Start.", "destination": "End."},
            ),
        ],
    ),
    "translate": (
        "camel",
        [
            (
                "translate text",
                "Translate text into another language.",
                {"text": "What to translate.", "target_language": "Language code, e.g. fr."},
            ),
            ("detect language", "Detect which language a text is written in.", {"text": "Text."}),
        ],
    ),
    "tickets": (
        "snake",
        [
            (
                "create issue",
                "Open a new issue or bug report in the issue tracker.",
                {"title": "Summary.", "description": "Details.", "priority": "low, normal, high."},
            ),
            ("comment", "Add a comment to an issue.", {"issue_id": "Issue.", "text": "Comment."}),
            ("close issue", "Close a resolved issue.", {"issue_id": "Issue."}),
            (
                "assign",
                "Assign an issue to a team member.",
                {"issue_id": "Issue.", "assignee": "User name."},
            ),
            ("search issues", "Search issues by words, label or status.", {"query": "Words."}),
        ],
    ),
    "docker": (
        "kebab",
        [
            ("list containers", "List running Docker containers.", {"all": "Include stopped."}),
            ("start container", "Start a stopped container.", {"container": "Name or id."}),
            ("stop container", "Stop a running container.", {"container": "Name or id."}),
            (
                "container logs",
                "Fetch the logs of a container.",
                {"container": "Name or id.", "tail": "Last lines only."},
            ),
            (
                "build image",
                "Build a Docker image from a Dockerfile.",
                {"path": "Build context.", "tag": "Image tag."},
            ),
        ],
    ),
    "users": (
        "snake",
        [
            (
                "create",
                "Create a user account with a role.",
                {"username": "Login name.", "role": "admin, editor or viewer."},
            ),
            ("disable", "Disable a user account so it cannot log in.", {"username": "Login."}),
            ("reset password", "Send a password reset link to a user.", {"username": "Login."}),
            ("list", "List user accounts and their roles.", {}),
        ],
    ),
    "notes": (
        "camel",
        [
            (
                "create note",
                "Write a new note in the notebook.",
                {"title": "Note title.", "text": "Note body."},
            ),
            ("search notes", "Search notes by words.", {"query": "Words."}),
            (
                "append to note",
                "Append text to the end of an existing note.",
                {"note_id": "The note.", "text": "What to add."},
            ),
        ],
    ),
    "shop": (
        "snake",
        [
            (
                "search products",
                "Search the product catalog by name or category.",
                {"query": "Words.", "max_price": "Highest price."},
            ),
            (
                "add to cart",
                "Add a product to the shopping cart.",
                {"product_id": "Product.", "quantity": "How many."},
            ),
            (
                "checkout",
                "Place the order for the items in the cart.",
                {"shipping_address": "Where to deliver."},
            ),
            ("track order", "Track the delivery status of an order.", {"order_id": "Order."}),
        ],
    ),
    "travel": (
        "snake",
        [
            (
                "search flights",
                "Search flights between two airports on a date.",
                {"origin": "Airport code.", "destination": "Airport code.", "date": "ISO date."},
            ),
            (
                "book hotel",
                "Book a hotel room for some nights.",
                {"city": "City.", "check_in": "Arrival date.", "nights": "How many nights."},
            ),
            ("rent car", "Reserve a rental car.", {"city": "Pick-up city.", "days": "Days."}),
        ],
    ),
    "math": (
        "snake",
        [
            ("calculate", "Evaluate an arithmetic expression.", {"expression": "e.g. 2*(3+4)."}),
            (
                "convert units",
                "Convert a quantity between units (km to miles...).",
                {"value": "Amount.", "from_unit": "Unit.", "to_unit": "Unit."},
            ),
            (
                "currency rate",
                "Get the exchange rate between two currencies.",
                {"base": "From currency.", "quote": "To currency."},
            ),
        ],
    ),
    "http": (
        "snake",
        [
            ("get", "Fetch a web page or JSON API over HTTP GET.", {"url": "The URL."}),
            ("post", "Send data to a URL with HTTP POST.", {"url": "URL.", "json": "Body."}),
        ],
    ),
}


def _name(domain: str, action: str, style: str) -> str:
    words = [*domain.split(), *action.split()]
    if style == "camel":
        return words[0] + "".join(w.capitalize() for w in words[1:])
    return ("-" if style == "kebab" else "_").join(words)


def _nothing(**_: Any) -> None:
    """What the synthetic tools do."""


def _tool(name: str, description: str, parameters: dict[str, str]) -> Tool[..., Any]:
    schema = {
        "type": "object",
        "properties": {p: {"type": "string", "description": d} for p, d in parameters.items()},
        "required": list(parameters)[:1],
    }
    return Tool.from_schema(_nothing, schema, name=name, description=description)


def specs() -> list[tuple[str, str, dict[str, str]]]:
    """The hand-written tools: (name, description, parameter descriptions)."""
    return [
        (_name(domain, action, style), description, parameters)
        for domain, (style, actions) in _DOMAINS.items()
        for action, description, parameters in actions
    ]


def catalog(size: int = 200) -> list[Tool[..., Any]]:
    """``size`` tools: the hand-written ones, then numbered variants of them (an archive
    copy of each: ``email_send_archive_2``, with its own words) until there are enough."""
    base = specs()
    tools = [_tool(*spec) for spec in base[:size]]
    round_no = 1
    while len(tools) < size:
        round_no += 1
        for name, description, parameters in base[: size - len(tools)]:
            variant = f"{name}_archive_{round_no}" if "-" not in name else f"{name}-v{round_no}"
            tools.append(
                _tool(variant, f"{description} Works on the archive number {round_no}.", parameters)
            )
    return tools
