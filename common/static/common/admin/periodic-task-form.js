// django-celery-beat's periodic task form: the crontab's help says the chosen schedule in
// words. Its own template does this in an inline script, which the admin's Content
// Security Policy blocks (templates/admin/djcelery/change_periodictask_form.html).
(function ($) {
  const readableCrontabs = JSON.parse($("#readable-crontabs").text());
  const help = $(".field-crontab .help");
  const originalCrontabHelp = help.html();
  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    const additional = readableCrontabs[$("#id_crontab").val()];
    help.text("");
    help.append(originalCrontabHelp, "<br>", document.createTextNode(`Translation: ${additional}`));
  });
})(django.jQuery);
