// The new API key's field selects itself on focus, ready to copy (a file, not an
// inline handler: the admin runs under a Content Security Policy without inline script).
document.addEventListener("DOMContentLoaded", () => {
  const field = document.getElementById("api-key");
  if (field) field.addEventListener("focus", () => field.select());
});
