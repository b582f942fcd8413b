"""Recordings under the customer's control (issue 17): deletion now and by retention, with a
receipt; a ZIP of everything; the access history of each recording."""
