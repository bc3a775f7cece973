"""Business errors: raised by services, shown to the user as a Chinese sentence."""


class BusinessError(Exception):
    """A rule of the business refused the action; the message is for the user."""

    def __init__(self, message: str, *, code: str = "business") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message
