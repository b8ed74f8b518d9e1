"""Watch a network learn: a live page on 127.0.0.1, and a recorded replay of a run.

``session`` trains a real scalar MLP and describes it as frames (plain dicts);
``server`` serves the page and streams the frames with server-sent events;
``record`` writes a finished run as one self-contained HTML page. The page itself
(``page.html``, ``watch.js``, ``watch.css``) is package data, loaded with
importlib.resources.
"""
