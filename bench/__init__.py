"""The benchmark suite: data generator, limit baseline and load runner (see bench/README.md).

Not part of the application: it imports ``models`` (the schema, slugs, Markdown rendering,
phone numbers) to write data the way the app stores it, and nothing imports it back.
"""
