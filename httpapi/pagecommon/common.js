// What the developer portal (portal.js) and the dashboard (dashboard.js)
// have in common: each page serves this file beside it as common.js and
// loads it first. No framework and no build step; every value from the API
// reaches the page through textContent, never as HTML.
"use strict";

// nahookPage returns the helpers a page is made of, bound to what the page
// does its own way:
//   - url(path): where a request to the page's API for path goes;
//   - token(): the bearer token it sends;
//   - unauthorized(err): what the page does when the token is refused
//     (the portal's expired session, the dashboard's sign-in form), before
//     the request fails with err;
//   - advice: what the page says instead of the API's message, by error
//     code, for errors whose message, written for developers, does not tell
//     the page's reader what to do;
//   - field(form, path): the name of the field the API's error path names,
//     and the input of form to focus for it, if any: each API names fields
//     its own way.
function nahookPage(page) {
  const $ = (id) => document.getElementById(id);

  function show(el, visible) {
    el.hidden = !visible;
  }

  function notice(message, kind) {
    const n = $("notice");
    n.textContent = message || "";
    n.className = "notice" + (kind ? " " + kind : "");
    show(n, Boolean(message));
  }

  function when(iso) {
    return new Date(iso).toLocaleString();
  }

  function counted(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  // localInput is date as a datetime-local input shows it: the browser's
  // own time zone, to the minute.
  function localInput(date) {
    return new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }

  class APIError extends Error {
    constructor(status, body, advice) {
      const e = (body && body.error) || {};
      super((advice && advice[e.code]) || e.message || "The request failed (HTTP " + status + ").");
      this.status = status;
      this.code = e.code;
      this.field = e.field;
    }
  }

  async function api(method, path, body) {
    const init = { method, headers: { Authorization: "Bearer " + page.token() } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(page.url(path), init);
    } catch (err) {
      throw new APIError(0, { error: { message: "The server could not be reached. Check your connection and try again." } });
    }
    if (res.status === 204) return null;
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      const err = new APIError(res.status, data, page.advice);
      if (res.status === 401) page.unauthorized(err);
      throw err;
    }
    return data;
  }

  // all fetches every page of a list.
  async function all(path) {
    const sep = path.includes("?") ? "&" : "?";
    let items = [];
    let cursor = "";
    do {
      const list = await api("GET", path + sep + "limit=250" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
      items = items.concat(list.data);
      cursor = list.nextCursor;
    } while (cursor);
    return items;
  }

  // Forms: errors under the field the API names.

  function clearErrors(form) {
    for (const el of form.querySelectorAll(".error")) {
      el.textContent = "";
      show(el, false);
    }
    for (const el of form.querySelectorAll("[aria-invalid]")) {
      el.removeAttribute("aria-invalid");
    }
  }

  // fieldError shows the API's message in form next to the field it names
  // (the .error whose data-field is the field's name, as page.field reads
  // it), or under the form (data-field=""), and focuses the field.
  function fieldError(form, err) {
    const [field, input] = page.field(form, err.field || "");
    const target = (field && form.querySelector('.error[data-field="' + field + '"]')) || form.querySelector('.error[data-field=""]');
    target.textContent = err.message;
    show(target, true);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } else {
      target.setAttribute("tabindex", "-1");
      target.focus();
    }
  }

  // submitting runs a form's request with its button disabled, showing an
  // error under its field.
  function submitting(form, run) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      notice("");
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      try {
        await run();
      } catch (err) {
        if (err.status !== 401) fieldError(form, err);
      } finally {
        button.disabled = false;
      }
    });
  }

  // Endpoints' cards.

  // expand shows or hides (and empties) a panel of a card, and tells
  // assistive technology which.
  function expand(box, button, visible) {
    if (!visible) box.replaceChildren();
    show(box, visible);
    button.setAttribute("aria-expanded", String(visible));
  }

  // focusIn focuses a control of the card of endpoint id, if it is there,
  // and says whether it was.
  function focusIn(id, selector) {
    const card = document.querySelector('#endpoints li[data-id="' + CSS.escape(id) + '"]');
    const target = card && card.querySelector(selector);
    if (target) target.focus();
    return Boolean(target);
  }

  // own gives the IDs in a panel drawn from a template the endpoint's ID
  // as a suffix, and points its labels and descriptions at the renamed
  // elements: every card may show the same panel.
  function own(root, suffix) {
    const rename = (ids) => ids.split(" ").map((id) => id + "-" + suffix).join(" ");
    for (const el of root.querySelectorAll("[id]")) el.id = rename(el.id);
    if (root.id) root.id = rename(root.id);
    for (const el of root.querySelectorAll("label[for]")) el.htmlFor = rename(el.htmlFor);
    for (const attr of ["aria-describedby", "aria-labelledby"]) {
      for (const el of [root, ...root.querySelectorAll("[" + attr + "]")]) {
        if (el.hasAttribute(attr)) el.setAttribute(attr, rename(el.getAttribute(attr)));
      }
    }
  }

  // typeChoices are the checkboxes of the editor's event types, checked
  // where the endpoint subscribes: all of them, each of types, and the
  // subscriptions types do not show (wildcards such as order.*), so that
  // saving an edit does not drop them.
  function typeChoices(types, subscribed) {
    const choice = (value, label) => {
      const wrap = document.createElement("label");
      wrap.className = "choice";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = "eventTypes";
      box.value = value;
      box.checked = subscribed.has(value);
      wrap.append(box, " " + label);
      return wrap;
    };
    const choices = [choice("*", "All event types")];
    for (const et of types) choices.push(choice(et.name, et.description ? et.name + ": " + et.description : et.name));
    const shown = new Set(["*"].concat(types.map((et) => et.name)));
    for (const name of subscribed) {
      if (!shown.has(name)) choices.push(choice(name, name));
    }
    return choices;
  }

  // Health.

  const count = new Intl.NumberFormat("en-US");

  // showHealth writes the endpoint's success rate, attempts and latency
  // over the last hour and day in its card.
  async function showHealth(ep, li) {
    const hour = li.querySelector(".health-hour");
    const day = li.querySelector(".health-day");
    try {
      const h = await api("GET", "/endpoints/" + ep.id + "/health");
      hour.textContent = describeWindow("Last hour", "the last hour", h.lastHour);
      day.textContent = describeWindow("Last 24 hours", "the last 24 hours", h.lastDay);
    } catch (err) {
      hour.textContent = err.status === 401 ? "" : "Health figures are unavailable right now.";
      day.textContent = "";
    }
  }

  // describeWindow says how one window of an endpoint's attempts went:
  // "Last hour: 98.2% of 1,234 attempts succeeded, p50 120 ms, p99 900 ms".
  // The rate is rounded down, so that one failure never shows as 100.0%.
  function describeWindow(label, period, w) {
    if (w.attempts === 0) return "No attempts in " + period;
    const rate = (Math.floor(w.successRate * 1000) / 10).toFixed(1) + "%";
    return label + ": " + rate + " of " + count.format(w.attempts) + (w.attempts === 1 ? " attempt" : " attempts") +
      " succeeded, p50 " + latency(w.p50Ms) + ", p99 " + latency(w.p99Ms);
  }

  function latency(ms) {
    return ms < 10000 ? count.format(ms) + " ms" : count.format(Math.round(ms / 100) / 10) + " s";
  }

  // Deliveries.

  // headings gives table a head row of column headings.
  function headings(table, names) {
    const head = table.createTHead().insertRow();
    for (const h of names) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = h;
      head.appendChild(th);
    }
  }

  // deliveryRow adds a row for delivery d to a table's body: its time,
  // event type, status, attempts and last answer.
  function deliveryRow(body, d) {
    const row = body.insertRow();
    const answer = d.lastStatusCode ? "HTTP " + d.lastStatusCode : d.lastError || "—";
    for (const v of [when(d.createdAt), d.eventType || "(sent directly)", d.status, String(d.attemptCount), answer]) {
      row.insertCell().textContent = v;
    }
    row.cells[2].className = "delivery-" + d.status;
    return row;
  }

  function deliverySummary(d) {
    let summary = "Status: " + d.status + " · webhook-id " + d.eventId;
    if (d.nextAttemptAt) summary += " · next attempt " + when(d.nextAttemptAt);
    return summary;
  }

  // attemptRows adds a row for each attempt to a table's body, with the
  // answer received as text: the receiver is not to be trusted with the
  // page.
  function attemptRows(body, attempts) {
    for (const a of attempts) {
      const row = body.insertRow();
      const answer = a.statusCode === null ? a.error || "No answer" : "HTTP " + a.statusCode;
      for (const v of [String(a.number), when(a.attemptedAt), answer, a.durationMs + " ms"]) {
        row.insertCell().textContent = v;
      }
      const ok = a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300;
      row.cells[2].className = ok ? "delivery-succeeded" : "delivery-failed";
      const cell = row.insertCell();
      if (a.response) {
        const pre = document.createElement("pre");
        pre.className = "response";
        pre.textContent = a.response;
        cell.appendChild(pre);
      } else {
        cell.textContent = "—";
      }
    }
  }

  // Recovery: sending an endpoint again what failed, or what it missed.

  // recoveryForms draws endpoint ep's recovery forms from the page's
  // recovery-template, from a day ago. Each sends its times to its path
  // under the endpoint (recover, replay-missing), awaits queued() (the
  // page showing what was queued: a list left as it was is no reason to
  // say the recovery failed) and says how many deliveries were queued; or
  // the API's error, under the field it names. With refocus, the form's
  // button then takes focus back.
  function recoveryForms(ep, queued, refocus) {
    const forms = $("recovery-template").content.firstElementChild.cloneNode(true);
    own(forms, ep.id);
    const dayAgo = localInput(new Date(Date.now() - 24 * 60 * 60 * 1000));
    for (const input of forms.querySelectorAll('input[name="since"]')) input.value = dayAgo;
    const recoveryForm = (form, path, told) => submitting(form, async () => {
      const result = form.querySelector(".result");
      result.textContent = "";
      const body = {};
      for (const input of form.querySelectorAll("input")) {
        // The input holds local time; the API takes RFC 3339. Empty is
        // left out: "until" is optional, and the API names a missing
        // "since" itself. What is not a time goes as typed, for the API
        // to refuse by name.
        if (!input.value) continue;
        const t = new Date(input.value);
        body[input.name] = isNaN(t) ? input.value : t.toISOString();
      }
      const res = await api("POST", "/endpoints/" + ep.id + path, body);
      await queued().catch(() => {});
      result.textContent = told(res.queued);
      if (refocus) {
        const button = form.querySelector('button[type="submit"]');
        button.disabled = false;
        button.focus();
      }
    });
    recoveryForm(forms.querySelector(".recover-form"), "/recover", (n) =>
      n === 0 ? "No failed deliveries in that period." : counted(n, "failed delivery", "failed deliveries") + " queued to be sent again.");
    recoveryForm(forms.querySelector(".replay-form"), "/replay-missing", (n) =>
      n === 0 ? "No missed events since then." : counted(n, "missed event", "missed events") + " queued to be sent.");
    return forms;
  }

  return {
    $, show, notice, when, counted, localInput, APIError, api, all, clearErrors, fieldError, submitting,
    expand, focusIn, own, typeChoices, showHealth, headings, deliveryRow, deliverySummary, attemptRows, recoveryForms,
  };
}
