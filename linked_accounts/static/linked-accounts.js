// Linked accounts: the page's one small script (a file, so a strict CSP needs no 'unsafe-inline').
// Everything it touches reads well without it; it only makes times the reader's own and keeps a
// reload from repeating a message that was already shown.
(function () {
  "use strict";
  var lang = document.documentElement.lang || undefined;

  // <time class="la-when" datetime="...Z">01:02 UTC</time>: the same moment in the reader's own
  // time zone and language; the full date on hover.
  function localiseTimes() {
    var times = document.querySelectorAll("time.la-when[datetime]");
    for (var i = 0; i < times.length; i++) {
      var moment = new Date(times[i].getAttribute("datetime"));
      if (isNaN(moment.getTime())) continue;
      try {
        times[i].textContent = new Intl.DateTimeFormat(lang, { timeStyle: "short" }).format(moment);
        times[i].title = new Intl.DateTimeFormat(lang, {
          dateStyle: "full", timeStyle: "long",
        }).format(moment);
      } catch (e) {
        // An Intl without these options: the server's UTC wording stays, which is still true.
      }
    }
  }

  // A page reached with ?done=<outcome> shows its message once: drop it from the address, so
  // reloading or bookmarking the page does not say it again. Not on a page whose content is the
  // outcome ([data-la-outcome-page]: why a sign-in failed), which a reload shows again.
  function forgetShownOutcome() {
    if (!window.history || !window.history.replaceState || !window.URL) return;
    if (document.querySelector("[data-la-outcome-page]")) return;
    var url = new URL(window.location.href);
    if (!url.searchParams.has("done")) return;
    url.searchParams.delete("done");
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  }

  // <form data-la-autosubmit>: a form the person would only press anyway (the at-login door's
  // answer going back to the sign-in service by POST, so it stays out of addresses and logs).
  function submitWaitingForms() {
    var forms = document.querySelectorAll("form[data-la-autosubmit]");
    for (var i = 0; i < forms.length; i++) forms[i].submit();
  }

  function start() {
    localiseTimes();
    forgetShownOutcome();
    submitWaitingForms();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
