"""Upload requests that Django refuses to parse, explained in Chinese by the page that asked for files.

Django refuses a multipart body before any view runs (CsrfViewMiddleware reads request.POST first) when it
holds more than DATA_UPLOAD_MAX_NUMBER_FILES files (TooManyFilesSent) or a part header over 1 KiB, which
is what a 1,000-character file name makes (MultiPartParserError). Both end as the generic 400 page. A view
marked with @explains_upload_refusals gets the reason as request.upload_error instead, while the limits
themselves stay as they are for the whole site.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import TooManyFilesSent
from django.http import HttpResponseRedirect
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

MARK = "explains_upload_refusals"


def too_many_files_text() -> str:
    return f"一次最多上传{settings.DATA_UPLOAD_MAX_NUMBER_FILES}张图片，请分批上传。"


UNREADABLE = "上传的文件无法读取：文件名过长（请改为100个字以内）或文件已损坏，请修改后重新上传。"


def explains_upload_refusals(view):
    """Put outermost: the middleware reads the mark on the resolved view."""
    setattr(view, MARK, True)
    return view


class UploadRefusalMiddleware:
    """Parses a marked view's multipart POST first, so a refusal becomes request.upload_error.

    With htmx the CSRF token travels in a header and the view runs and shows the error in its form; a plain
    form's token was in the refused body, so nothing is done: the agent goes back to the page with the reason."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not getattr(view_func, MARK, False) or request.method != "POST" or request.content_type != "multipart/form-data":
            return None
        try:
            request.POST  # noqa: B018 - parsed here, before CsrfViewMiddleware, so the refusal is ours to explain
        except TooManyFilesSent:
            request.upload_error = too_many_files_text()
        except MultiPartParserError:
            request.upload_error = UNREADABLE
        else:
            return None
        if request.headers.get("HX-Request") == "true":
            return None  # the CSRF header is checked as usual; the view renders the error in its form
        back = request.headers.get("Referer", "")
        if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
            messages.error(request, request.upload_error)
            return HttpResponseRedirect(back, status=303)
        context = {"status": 400, "title": "上传失败", "text": request.upload_error, "request_id": getattr(request, "request_id", "")}
        return render(request, "error.html", context, status=400)
