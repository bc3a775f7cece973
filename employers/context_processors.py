"""Template context shared by every page: the center's name and the signed-in employer."""

from .models import Center


def portal(request):
    user = getattr(request, "user", None)
    center = Center.objects.order_by("pk").first()
    employer = user.employer if user is not None and user.is_authenticated and user.is_agent else None
    return {"center": center, "current_employer": employer}
