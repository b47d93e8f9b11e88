// Help us check the score is fair, in words and values: the choices the API takes, their
// names in every language the app speaks, and the form's values to and from the API.
// Pure (no DOM): the node tests import it.
import { register } from "../../i18n.js";

// The choices the API takes (governance.models.AgeBand, Sex); "" is no answer (null).
export const AGE_BANDS = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"];
export const SEXES = ["female", "male", "other"];
export const PROMISES = ["optional", "score", "merchants", "together", "withdraw", "export"];

register({
  en: {
    "monitoring.title": "Help us check the score is fair",
    "monitoring.lead":
      "We check that the score treats groups of people fairly: that, with the same record, people of one age or sex do not get lower scores or fewer deposit waivers than others. To check, we need to know some people's age band and sex. You can help by telling us yours.",
    "monitoring.whyTitle": "What happens to your answers",
    "monitoring.promise.optional": "It is optional: answer one question, both or none.",
    "monitoring.promise.score": "It is never used to compute your score, and never changes what you are offered.",
    "monitoring.promise.merchants": "It is never shown to merchants, and no merchant can ask for it.",
    "monitoring.promise.together":
      "Only the fairness check reads it, counted together with other people's answers; a group of fewer than 20 people is never shown.",
    "monitoring.promise.withdraw": "You can change or withdraw it at any time. Withdrawn, it is erased, not kept.",
    "monitoring.promise.export": "It is included in your data export.",
    "monitoring.formTitle": "Your answers",
    "monitoring.ageBand": "Age band",
    "monitoring.sex": "Sex",
    "monitoring.noAnswer": "Prefer not to say",
    "monitoring.age.18-24": "18 to 24",
    "monitoring.age.25-34": "25 to 34",
    "monitoring.age.35-44": "35 to 44",
    "monitoring.age.45-54": "45 to 54",
    "monitoring.age.55-64": "55 to 64",
    "monitoring.age.65+": "65 or older",
    "monitoring.sex.female": "Female",
    "monitoring.sex.male": "Male",
    "monitoring.sex.other": "Another answer",
    "monitoring.kept": "Thank you. Your answers are kept for the fairness check only.",
    "monitoring.none": "You have not told us anything. Nothing is kept.",
    "monitoring.save": "Save my answers",
    "monitoring.saved": "Saved. Thank you for helping us check the score is fair.",
    "monitoring.savedNothing": "Nothing is kept: you preferred not to say either.",
    "monitoring.withdraw": "Withdraw my answers",
    "monitoring.withdrawQuestion": "Erase your answers? The fairness check will not count you any more.",
    "monitoring.withdrawConfirm": "Erase them",
    "monitoring.withdrawn": "Your answers are erased.",
    "monitoring.dataLink": "See your data export",
  },
  es: {
    "monitoring.title": "Ayúdanos a comprobar que la puntuación es justa",
    "monitoring.lead":
      "Comprobamos que la puntuación trata con justicia a los distintos grupos de personas: que, con el mismo historial, las personas de una edad o un sexo no reciben puntuaciones más bajas ni menos exenciones de depósito que las demás. Para comprobarlo necesitamos saber el grupo de edad y el sexo de algunas personas. Puedes ayudarnos diciéndonos los tuyos.",
    "monitoring.whyTitle": "Qué pasa con tus respuestas",
    "monitoring.promise.optional": "Es opcional: responde a una pregunta, a las dos o a ninguna.",
    "monitoring.promise.score": "Nunca se usa para calcular tu puntuación ni cambia lo que se te ofrece.",
    "monitoring.promise.merchants": "Nunca se muestra a los comercios, y ningún comercio puede pedirlo.",
    "monitoring.promise.together":
      "Solo lo lee la comprobación de equidad, contado junto con las respuestas de otras personas; nunca se muestra un grupo de menos de 20 personas.",
    "monitoring.promise.withdraw": "Puedes cambiarlo o retirarlo cuando quieras. Al retirarlo se borra, no se guarda.",
    "monitoring.promise.export": "Se incluye en la exportación de tus datos.",
    "monitoring.formTitle": "Tus respuestas",
    "monitoring.ageBand": "Grupo de edad",
    "monitoring.sex": "Sexo",
    "monitoring.noAnswer": "Prefiero no decirlo",
    "monitoring.age.18-24": "De 18 a 24",
    "monitoring.age.25-34": "De 25 a 34",
    "monitoring.age.35-44": "De 35 a 44",
    "monitoring.age.45-54": "De 45 a 54",
    "monitoring.age.55-64": "De 55 a 64",
    "monitoring.age.65+": "65 o más",
    "monitoring.sex.female": "Mujer",
    "monitoring.sex.male": "Hombre",
    "monitoring.sex.other": "Otra respuesta",
    "monitoring.kept": "Gracias. Tus respuestas se guardan solo para la comprobación de equidad.",
    "monitoring.none": "No nos has dicho nada. No se guarda nada.",
    "monitoring.save": "Guardar mis respuestas",
    "monitoring.saved": "Guardado. Gracias por ayudarnos a comprobar que la puntuación es justa.",
    "monitoring.savedNothing": "No se guarda nada: has preferido no decir ninguna de las dos.",
    "monitoring.withdraw": "Retirar mis respuestas",
    "monitoring.withdrawQuestion": "¿Borrar tus respuestas? La comprobación de equidad dejará de contarte.",
    "monitoring.withdrawConfirm": "Borrarlas",
    "monitoring.withdrawn": "Tus respuestas se han borrado.",
    "monitoring.dataLink": "Ver la exportación de tus datos",
  },
  "zh-Hans": {
    "monitoring.title": "帮助我们检查评分是否公平",
    "monitoring.lead":
      "我们会检查评分是否公平对待不同人群：在记录相同的情况下，某个年龄段或性别的人不会得到更低的评分或更少的押金减免。为此，我们需要了解部分用户的年龄段和性别。您可以告诉我们您的信息来帮助我们。",
    "monitoring.whyTitle": "您的回答会怎样使用",
    "monitoring.promise.optional": "完全自愿：您可以回答一个问题、两个都回答，或都不回答。",
    "monitoring.promise.score": "它绝不会用于计算您的评分，也不会改变您获得的优惠。",
    "monitoring.promise.merchants": "它绝不会展示给商户，任何商户也无法查询。",
    "monitoring.promise.together": "只有公平性检查会读取它，并与其他人的回答合并统计；少于20人的群组从不显示。",
    "monitoring.promise.withdraw": "您可以随时修改或撤回。撤回后即被删除，不会保留。",
    "monitoring.promise.export": "它包含在您的数据导出中。",
    "monitoring.formTitle": "您的回答",
    "monitoring.ageBand": "年龄段",
    "monitoring.sex": "性别",
    "monitoring.noAnswer": "不愿透露",
    "monitoring.age.18-24": "18至24岁",
    "monitoring.age.25-34": "25至34岁",
    "monitoring.age.35-44": "35至44岁",
    "monitoring.age.45-54": "45至54岁",
    "monitoring.age.55-64": "55至64岁",
    "monitoring.age.65+": "65岁及以上",
    "monitoring.sex.female": "女",
    "monitoring.sex.male": "男",
    "monitoring.sex.other": "其他",
    "monitoring.kept": "谢谢。您的回答仅用于公平性检查。",
    "monitoring.none": "您尚未告诉我们任何信息，我们不保存任何内容。",
    "monitoring.save": "保存我的回答",
    "monitoring.saved": "已保存。感谢您帮助我们检查评分是否公平。",
    "monitoring.savedNothing": "两个问题您都选择不透露，因此不保存任何内容。",
    "monitoring.withdraw": "撤回我的回答",
    "monitoring.withdrawQuestion": "删除您的回答？公平性检查将不再统计您。",
    "monitoring.withdrawConfirm": "删除",
    "monitoring.withdrawn": "您的回答已删除。",
    "monitoring.dataLink": "查看您的数据导出",
  },
});

/** What the API answers, as the form's values: null (no answer) is "". */
export function formValues(answers) {
  return { age_band: answers?.age_band || "", sex: answers?.sex || "" };
}

/** The form's values as the API takes them: "" (prefer not to say) is null. */
export function requestBody(values) {
  return { age_band: values.age_band || null, sex: values.sex || null };
}
