/* e-Gömrük: the little script the portal needs on top of htmx. Every page works
   without it; it only makes htmx updates accessible:
   - a swapped fragment's [data-announce] text is read out through the persistent
     role=status region (#status);
   - focus moves to the fragment's [data-focus-after-swap] element (a result heading
     or the error summary), never away from a field the user is typing in;
   - failed requests are announced instead of failing silently;
   - on a full page load an error summary takes focus, as GOV.UK does, or else an element
     marked [data-focus-on-load] (a confirmation panel after a redirect);
   - [data-print] buttons print the page (they are hidden without JavaScript: .js-only). */
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

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary:not([data-disable-auto-focus])");
    focusElement(summary || document.querySelector("[data-focus-on-load]"));
  });
})();
