from django.contrib.auth.views import LoginView

from connections.login_throttle import client_ip, login_lockout_minutes, login_success_record


class ThrottledLoginView(LoginView):
    """Django's login page, refusing a locked username or address with 429 and saying how long.

    Failures are counted by connections.login_throttle's user_login_failed receiver.
    """

    def post(self, request, *args, **kwargs):
        minutes = login_lockout_minutes(
            username=request.POST.get("username", ""), ip=client_ip(request)
        )
        if minutes:
            return self._locked(minutes)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        minutes = login_lockout_minutes(
            username=self.request.POST.get("username", ""), ip=client_ip(self.request)
        )
        if minutes:
            return self._locked(minutes)
        return super().form_invalid(form)

    def form_valid(self, form):
        login_success_record(username=form.get_user().get_username())
        return super().form_valid(form)

    def _locked(self, minutes: int):
        context = self.get_context_data(form=self.get_form_class()(self.request), locked=minutes)
        return self.render_to_response(context, status=429)
