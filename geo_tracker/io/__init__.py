"""Reading what bureaus deliver into one normalised frame; nothing here knows the database."""
