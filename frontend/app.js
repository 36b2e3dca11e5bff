// Progressive enhancement only: every page works without this file.
import { initAll } from "/static/govuk/govuk-frontend.min.js";

initAll();

// Autosave on a return's section page: htmx posts each item as it changes (see _item.html).
// Here we only keep the person informed: "Saving…", a retry when the network fails, and a
// clear "Not saved" warning when it keeps failing. Their typed answer never leaves the page.
const RETRY_DELAYS = [2000, 5000, 10000];

function statusFor(item) {
  return item && item.id ? document.getElementById(`${item.id}-status`) : null;
}

function setStatus(item, text, isError) {
  const status = statusFor(item);
  if (!status) return;
  status.textContent = text;
  status.classList.toggle("app-save-status--error", Boolean(isError));
}

document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.elt.classList.contains("app-item__answer")) setStatus(event.detail.elt, "Saving…", false);
});

document.addEventListener("htmx:afterRequest", (event) => {
  if (event.detail.successful) event.detail.elt.dataset.attempt = "0";
});

document.addEventListener("htmx:responseError", (event) => {
  const item = event.detail.elt;
  if (!item.classList.contains("app-item__answer")) return;
  const xhr = event.detail.xhr;
  const status = xhr ? xhr.status : 0;
  if (status === 429 || status === 503) {
    // The portal is busy (deadline day): wait as long as it asks, then try again.
    retry(item, Number(xhr.getResponseHeader("Retry-After")) * 1000 || 0);
  } else if (status >= 400 && status < 500) {
    setStatus(item, "Not saved: this return can no longer be changed, or you have been signed out. Reload the page.", true);
  } else {
    retry(item);
  }
});

document.addEventListener("htmx:sendError", (event) => {
  if (event.detail.elt.classList.contains("app-item__answer")) retry(event.detail.elt);
});

function retry(item, askedMs = 0) {
  const attempt = Number(item.dataset.attempt || 0);
  if (attempt < RETRY_DELAYS.length) {
    item.dataset.attempt = String(attempt + 1);
    setStatus(item, "Not saved yet: trying again…", true);
    // Never sooner than a busy portal asked; a little spread so a whole county's pages do not
    // all come back in the same second.
    const delay = Math.max(RETRY_DELAYS[attempt], askedMs) + Math.floor(Math.random() * 500);
    setTimeout(() => window.htmx.trigger(item, "change"), delay);
  } else {
    setStatus(item, "Not saved: check your connection. Your answer is still on this page: select ‘Save and continue’ when you are back online.", true);
  }
}

// Questions reveal what a rating needs as soon as it is chosen: the reason when "not
// applicable" is chosen, and the action fields when a less-effective rating is chosen. Without
// JavaScript the same fields appear after saving (the server renders them in place).
document.addEventListener("change", (event) => {
  const radio = event.target;
  if (!(radio instanceof HTMLInputElement) || radio.type !== "radio") return;
  const item = radio.closest(".app-item");
  if (!item) return;
  if (radio.name.endsWith("-progress")) {
    const target = item.querySelector('[data-reveal-unless="complete"]');
    if (target) target.hidden = radio.hasAttribute("data-complete");
    return;
  }
  const reason = item.querySelector('[data-reveal-for="na"]');
  if (reason) reason.hidden = !radio.hasAttribute("data-not-applicable");
  const actions = item.querySelector('[data-reveal-for="less-effective"]');
  if (actions && !actions.querySelector(".app-action-list")) {
    actions.hidden = !radio.hasAttribute("data-less-effective");
  }
});

// A download the server takes a while to build (the scrutineer's pack): say so at once, and
// say when it has arrived. The link carries a one-off token; the server answers with a cookie
// of that token when it sends the file, which is how the page knows the wait is over.
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("a[data-preparing]") : null;
  if (!link) return;
  const status = document.getElementById(link.dataset.preparing);
  if (!status) return;
  const token = Math.random().toString(36).slice(2, 12);
  const url = new URL(link.href, window.location.href);
  url.searchParams.set("download", token);
  link.href = url.toString();
  status.textContent = "Preparing the pack: this can take a minute for a large campaign.";
  const started = Date.now();
  const timer = window.setInterval(() => {
    if (document.cookie.split("; ").includes(`download_ready=${token}`)) {
      window.clearInterval(timer);
      document.cookie = "download_ready=; Max-Age=0; Path=/";
      status.textContent = "The pack is ready: your browser has downloaded it.";
    } else if (Date.now() - started > 10 * 60 * 1000) {
      window.clearInterval(timer);
      status.textContent = "";
    }
  }, 500);
});
