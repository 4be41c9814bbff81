"""`dsr doctor`: each check says ok, or what is wrong and what to do."""
