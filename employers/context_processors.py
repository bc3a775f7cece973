"""Template context shared by every page: the center's name and the signed-in employer."""

from django.core.cache import caches

from .models import Center

CENTER_KEY = "portal:center"


def center_shown():
    """The center as the header and footer show it: read once a minute per process (caches["local"]), not on every
    page; saving the center forgets it at once in this process (employers.signals)."""
    local = caches["local"]
    center = local.get(CENTER_KEY)
    if center is None:
        center = Center.objects.order_by("pk").first()
        if center is not None:
            local.set(CENTER_KEY, center)
    return center


def portal(request):
    user = getattr(request, "user", None)
    employer = user.employer if user is not None and user.is_authenticated and user.is_agent else None
    return {"center": center_shown(), "current_employer": employer}
