"""The gateway's rules: who may log in, how sessions live and die. No Flask here."""
