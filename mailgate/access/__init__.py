"""Who may see and reach what, over HTTP and through the links in mail.

    secrets     random credentials stored as SHA-256, found by an indexed prefix
    tokens      API tokens (`mailgate token create|list|revoke`), Bearer authentication
    signin      single-use sign-in links by mail, and the web sessions they open
    links       signed per-recipient ticket and attachment links for mail
    visibility  which tickets a person may read, and what of them (a requester never an
                internal note, never another requester's ticket)
"""
