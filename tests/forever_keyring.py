"""A keyring backend that never answers (a locked Secret Service collection), for subprocess tests:
PYTHON_KEYRING_BACKEND=forever_keyring.Forever with this folder on PYTHONPATH."""

import time

from keyring.backend import KeyringBackend


class Forever(KeyringBackend):
    priority = 1

    def get_password(self, service, username):
        time.sleep(3600)

    def set_password(self, service, username, password):
        time.sleep(3600)

    def delete_password(self, service, username):
        time.sleep(3600)
