/* e-Gömrük: the little script the portal needs on top of htmx. Every page works
   without it; it only makes htmx updates accessible:
   - a swapped fragment's [data-announce] text is read out through the persistent
     role=status region (#status);
   - focus moves to the fragment's [data-focus-after-swap] element (a result heading
     or the error summary), never away from a field the user is typing in;
   - failed requests are announced instead of failing silently;
   - on a full page load an error summary takes focus, as GOV.UK does, or else an element
     marked [data-focus-on-load] (a confirmation panel after a redirect);
   - [data-print] buttons print the page (they are hidden without JavaScript: .js-only);
   - error summary links scroll the field's label or legend into view and focus the field;
   - [data-prevent-double-click] buttons ignore a second click within a second;
   - [data-countdown] shows the time left and announces when 30 seconds remain;
   - [data-file-upload] becomes GOV.UK's enhanced file upload (drop zone, files listed);
   - signed in, a modal dialog warns data-warn-seconds before the idle sign-out ("Continue"
     POSTs /session/keep-alive) and keeps a [data-draft] form's text on the server. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function statusRegion() {
    return document.getElementById("status");
  }

  function announce(text) {
    var region = statusRegion();
    if (!region || !text) return;
    // Clear first so that the same words twice in a row are announced again.
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function userIsTyping() {
    var active = document.activeElement;
    if (!active) return false;
    var tag = active.tagName;
    return (tag === "INPUT" && active.type !== "submit" && active.type !== "button") || tag === "TEXTAREA";
  }

  function focusElement(element) {
    if (!element) return;
    if (!element.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(element.tagName)) {
      element.setAttribute("tabindex", "-1");
    }
    element.focus();
  }

  function within(root, selector) {
    if (!root) return null;
    if (root.matches && root.matches(selector)) return root;
    return root.querySelector(selector);
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.detail.elt;
    // outerHTML swaps replace the target: look the new element up by id again.
    if (root && root.id && !document.body.contains(root)) root = document.getElementById(root.id);
    var announcer = within(root, "[data-announce]");
    if (announcer) announce(announcer.getAttribute("data-announce"));
    var focusTarget = within(root, "[data-focus-after-swap]");
    var force = focusTarget && focusTarget.getAttribute("data-focus-after-swap") === "always";
    if (focusTarget && (force || !userIsTyping())) focusElement(focusTarget);
  });

  function announceFailure() {
    announce(document.body.getAttribute("data-error-message"));
  }
  document.addEventListener("htmx:responseError", announceFailure);
  document.addEventListener("htmx:sendError", announceFailure);

  // Links styled as buttons answer the space bar like real buttons.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === " " && target.tagName === "A" && target.getAttribute("role") === "button") {
      event.preventDefault();
      target.click();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-print]") : null;
    if (button) window.print();
  });

  // Error summary links (GOV.UK Frontend's error summary): the browser's own jump puts the
  // field at the very top with its question scrolled away; show the label or legend instead.
  function questionFor(input) {
    var fieldset = input.closest("fieldset");
    if (fieldset) {
      var legends = fieldset.getElementsByTagName("legend");
      if (legends.length) {
        var legend = legends[0];
        // Checkboxes and radios always belong to their legend; other fields only when the
        // legend is close enough to be seen with the field.
        if (input.type === "checkbox" || input.type === "radio") return legend;
        var legendTop = legend.getBoundingClientRect().top;
        var inputRect = input.getBoundingClientRect();
        if (inputRect.height && window.innerHeight && inputRect.top + inputRect.height - legendTop < window.innerHeight / 2) {
          return legend;
        }
      }
    }
    return document.querySelector("label[for='" + input.getAttribute("id") + "']") || input.closest("label");
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".error-summary a[href^='#']") : null;
    if (!link) return;
    var input = document.getElementById(link.getAttribute("href").slice(1));
    if (!input) return;
    var question = questionFor(input);
    if (!question) return;
    event.preventDefault();
    question.scrollIntoView();
    input.focus({ preventScroll: true });
  });

  // A second click on a submit button within a second is a double click: ignore it, so one
  // form is sent once (GOV.UK button's data-prevent-double-click).
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-prevent-double-click]") : null;
    if (!button) return;
    if (button.getAttribute("data-debounce") === "1") {
      event.preventDefault();
      return;
    }
    button.setAttribute("data-debounce", "1");
    window.setTimeout(function () { button.removeAttribute("data-debounce"); }, 1000);
  });

  // Time left before a request expires. The sentence next to it gives the exact time for
  // everyone; this count is not a live region (it would speak every second): one warning
  // goes through the status region at 30 seconds.
  function startCountdown(element) {
    var end = Date.now() + parseInt(element.getAttribute("data-countdown"), 10) * 1000;
    var label = element.getAttribute("data-countdown-label") || "";
    var warned = false;
    function tick() {
      if (!document.body.contains(element)) return;
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      element.textContent = label + " " + Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (left <= 30 && !warned) {
        warned = true;
        announce(element.getAttribute("data-countdown-warning"));
      }
      if (left > 0) window.setTimeout(tick, 1000);
    }
    tick();
  }

  // GOV.UK's enhanced file upload: the native input (the no-JavaScript path) stays in the
  // form, hidden; a button opens it, the zone around takes dropped files, and the chosen
  // files are listed and announced in the page's language.
  function enhanceFileUpload(wrapper) {
    var input = wrapper.querySelector("input[type=file]");
    if (!input || wrapper.classList.contains("drop-zone")) return;
    wrapper.classList.add("drop-zone");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "file-upload-button";
    button.id = input.id + "-button";
    var choose = document.createElement("span");
    choose.className = "file-upload-button__pseudo";
    choose.textContent = wrapper.getAttribute("data-choose");
    var drop = document.createElement("span");
    drop.className = "file-upload-button__instruction";
    drop.textContent = wrapper.getAttribute("data-drop");
    button.appendChild(choose);
    button.appendChild(document.createTextNode(" "));
    button.appendChild(drop);
    var status = document.createElement("p");
    status.className = "file-upload__status";
    status.id = input.id + "-status";
    status.textContent = wrapper.getAttribute("data-none");
    var list = document.createElement("ul");
    list.className = "file-upload__chosen";
    var label = document.querySelector("label[for='" + input.id + "']");
    if (label && !label.id) label.id = input.id + "-label";
    var described = [label ? label.id : "", input.getAttribute("aria-describedby") || "", status.id];
    button.setAttribute("aria-describedby", described.join(" ").trim());
    if (input.disabled) button.disabled = true;
    input.classList.add("file-upload--enhanced");
    input.setAttribute("tabindex", "-1");
    input.setAttribute("aria-hidden", "true");
    wrapper.appendChild(button);
    wrapper.appendChild(status);
    wrapper.appendChild(list);

    function showChosen() {
      list.textContent = "";
      var files = Array.prototype.slice.call(input.files || []);
      files.forEach(function (file) {
        var item = document.createElement("li");
        item.textContent = file.name;
        list.appendChild(item);
      });
      status.textContent = files.length
        ? wrapper.getAttribute("data-chosen") + " " + files.length
        : wrapper.getAttribute("data-none");
      announce(status.textContent + (files.length ? ": " + files.map(function (f) { return f.name; }).join(", ") : ""));
    }
    button.addEventListener("click", function () { input.click(); });
    input.addEventListener("change", showChosen);
    wrapper.addEventListener("dragover", function (event) {
      event.preventDefault();
      wrapper.classList.add("drop-zone--active");
    });
    wrapper.addEventListener("dragleave", function (event) {
      if (!wrapper.contains(event.relatedTarget)) wrapper.classList.remove("drop-zone--active");
    });
    wrapper.addEventListener("drop", function (event) {
      event.preventDefault();
      wrapper.classList.remove("drop-zone--active");
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      input.files = event.dataTransfer.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  // The idle sign-out warning (GOV.UK timeout warning pattern). The server counts requests
  // as activity, so the clock restarts on every htmx request and on "Continue".
  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["x-csrftoken"];
    } catch (error) {
      return "";
    }
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "x-csrftoken": csrfToken() },
      body: body
    });
  }

  function saveDraft() {
    var form = document.querySelector("form[data-draft]");
    if (!form) return;
    var data = new URLSearchParams();
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.type !== "file" && field.type !== "hidden") data.append(field.name, field.value);
    });
    post("/session/drafts/" + form.getAttribute("data-draft"), data);
  }

  function startTimeoutWarning(dialog) {
    var idle = parseInt(dialog.getAttribute("data-idle-seconds"), 10) * 1000;
    var warnBefore = parseInt(dialog.getAttribute("data-warn-seconds"), 10) * 1000;
    var warnTimer, draftTimer, endTimer, returnFocus;

    function close() {
      if (dialog.open) dialog.close();
      if (returnFocus && document.body.contains(returnFocus)) returnFocus.focus();
    }
    function warn() {
      returnFocus = document.activeElement;
      saveDraft();
      dialog.showModal();
      var heading = dialog.querySelector("h2");
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
    function restart() {
      window.clearTimeout(warnTimer);
      window.clearTimeout(draftTimer);
      window.clearTimeout(endTimer);
      warnTimer = window.setTimeout(warn, Math.max(0, idle - warnBefore));
      draftTimer = window.setTimeout(saveDraft, Math.max(0, idle - 10000));
      // Signed out by now: the page itself shows the sign-in with the server's notice.
      endTimer = window.setTimeout(function () {
        window.location.href = window.location.pathname + window.location.search;
      }, idle + 1000);
    }
    function stay() {
      post("/session/keep-alive").then(restart);
      close();
    }
    dialog.querySelector("[data-timeout-continue]").addEventListener("click", stay);
    dialog.addEventListener("cancel", function (event) {  // Esc means "Continue"
      event.preventDefault();
      stay();
    });
    document.addEventListener("htmx:afterRequest", restart);
    restart();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-countdown]"), startCountdown);
    Array.prototype.forEach.call(document.querySelectorAll("[data-file-upload]"), enhanceFileUpload);
    var timeoutDialog = document.getElementById("timeout-dialog");
    if (timeoutDialog && timeoutDialog.showModal) startTimeoutWarning(timeoutDialog);
    var summary = document.querySelector(".error-summary:not([data-disable-auto-focus])");
    focusElement(summary || document.querySelector("[data-focus-on-load]"));
  });
})();
