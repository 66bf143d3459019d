"""web_client."""
