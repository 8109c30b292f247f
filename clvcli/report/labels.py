"""The words, numbers and dates of a report, in English or Persian.

A Persian report says everything in Persian: labels, stage names and verdicts,
digits (۰-۹ with ٬ between thousands and ٫ before decimals) and dates in the Jalali
calendar. Data values (customer ids, channel names) are shown as they are.

>>> Labels("fa").number(1234567.891, 2)
'۱٬۲۳۴٬۵۶۷٫۸۹'
>>> Labels("fa").date(19723)
'۱۴۰۲/۱۰/۱۱'
>>> Labels("en").percent(0.4567)
'45.7%'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from clvcli.io import jalali
from clvcli.io.text import PERSIAN_DIGITS

LANGS = ("en", "fa")
_TO_PERSIAN = str.maketrans("0123456789,.%", PERSIAN_DIGITS + "٬٫٪")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Customer lifetime value report",
        "subtitle": "{source}, as of {as_of}",
        "contents": "Contents",
        "headline": "Headline figures",
        "customers": "Customers",
        "revenue": "Revenue",
        "mean_clv": "Mean CLV",
        "total_clv": "Total CLV",
        "top_share": "Share of CLV in the top 10% of customers",
        "distribution": "CLV distribution",
        "distribution_note": "Total CLV per customer (margin to date plus predicted margin).",
        "distribution_zero": "{count} customers with no positive CLV are left out of the chart.",
        "clv_axis": "Total CLV per customer (input currency, log scale)",
        "customers_axis": "Customers (count)",
        "stages": "Lifecycle funnel",
        "stages_note": "Customers and value per lifecycle stage.",
        "stage_axis": "Lifecycle stage",
        "stage_clv_axis": "Total CLV of the stage (input currency)",
        "cac": "CLV against acquisition cost",
        "cac_channel": "CAC and mean CLV per channel",
        "cac_cohort": "CLV:CAC per acquisition cohort",
        "cac_channel_title": "Acquisition cost against mean CLV per channel",
        "cac_cohort_title": "CLV:CAC ratio per acquisition cohort",
        "money_axis": "Per customer (input currency)",
        "channel_axis": "Channel",
        "cohort_axis": "Acquisition cohort (month)",
        "ratio_axis": "CLV:CAC (ratio)",
        "cac_series": "CAC",
        "clv_series": "Mean total CLV",
        "healthy_line": "healthy ({value})",
        "thin_line": "thin ({value})",
        "cac_missing": "Run with --costs FILE to compare CLV with acquisition cost.",
        "cohorts": "Cohort retention",
        "cohorts_note": "Share of each acquisition cohort buying in each month since acquisition.",
        "cohorts_partial": "Hatched cells are the month of the as-of date, not over yet: "
        "they count only part of it.",
        "cohorts_title": "Retention by acquisition cohort",
        "months_since_axis": "Months since acquisition",
        "retention_axis": "Customers buying (% of cohort)",
        "model": "Model fit",
        "model_none": "No purchase model was fitted (--model none).",
        "model_saved": "Parameters loaded from a saved fit (--params); no intervals.",
        "fit_statistics": "Fit statistics",
        "parameters": "Parameters: estimate, standard error and 95% interval",
        "validation_table": "Holdout purchases, predicted against actual",
        "validation": "Holdout validation",
        "validation_note": (
            "{model} fitted on purchases to {calibration_end}, predicting {customers} "
            "customers' purchases to {holdout_end}."
        ),
        "frequency_title": "Holdout purchases by calibration frequency",
        "frequency_axis": "Repeat purchases in calibration (count)",
        "mean_purchases_axis": "Mean holdout purchases (count)",
        "predicted": "Predicted",
        "actual": "Actual",
        "tracking_title": "Cumulative repeat purchases",
        "date_axis": "Date",
        "cumulative_axis": "Repeat purchases (cumulative count)",
        "calibration_end": "calibration end",
        "validation_missing": "Run with --holdout 26w to check the model on a holdout period.",
        "top": "Top customers",
        "top_note": "The {count} customers of highest total CLV.",
        "top_note_purchases": "The {count} customers expected to buy the most.",
        "interval_note": "Their predicted CLV comes with its {level} interval: the range "
        "the uncertainty of the model's fitted parameters leaves it.",
        "no_amounts": "The log has no amount column: purchases are counted, money is left out.",
        "settings": "Settings",
        "source": "Input",
        "as_of": "As-of date",
        "model_name": "Model",
        "period": "Time unit",
        "margin": "Margin",
        "horizon": "Horizon",
        "horizon_months": "{months} months",
        "lifetime": "lifetime",
        "discount_rate": "Annual discount rate",
        "version": "clv version",
        "retention": "Subscription retention",
        "retention_note": "{model} fitted on {subscribers} subscribers ({period}ly renewals): "
        "the share still subscribed after each renewal, actual and fitted, projected beyond "
        "the data.",
        "retention_value": "{active} active subscribers worth {value} in all: price per "
        "{period} x margin x their discounted expected renewals still to come (DERL).",
        "survival_title": "Subscribers still subscribed, actual and projected",
        "renewals_axis": "Renewals since subscribing ({period}s)",
        "survival_axis": "Still subscribed (% of subscribers)",
        "actual_series": "Actual",
        "fitted_series": "Fitted",
        "projected_series": "Projected",
        "retention_table": "Survival and retention rate per renewal period",
        "active_subscribers": "Active subscribers",
        "base_value": "Value of the subscriber base",
        "warnings": "Notes",
        "made_by": "Made by clv {version}.",
        "measure": "Measure",
        "value": "Value",
        "none_model": "none",
    },
    "fa": {
        "title": "گزارش ارزش طول عمر مشتری",
        "subtitle": "{source}، تا تاریخ {as_of}",
        "contents": "فهرست",
        "headline": "شاخص‌های اصلی",
        "customers": "مشتریان",
        "revenue": "درآمد",
        "mean_clv": "میانگین ارزش طول عمر",
        "total_clv": "ارزش طول عمر کل",
        "top_share": "سهم ۱۰٪ برتر مشتریان از ارزش طول عمر",
        "distribution": "توزیع ارزش طول عمر",
        "distribution_note": "ارزش طول عمر هر مشتری (حاشیه سود تا امروز به‌علاوه حاشیه پیش‌بینی‌شده).",
        "distribution_zero": "{count} مشتری بدون ارزش مثبت در نمودار نیامده‌اند.",
        "clv_axis": "ارزش طول عمر هر مشتری (واحد پول ورودی، مقیاس لگاریتمی)",
        "customers_axis": "تعداد مشتریان",
        "stages": "قیف چرخه عمر مشتری",
        "stages_note": "مشتریان و ارزش هر مرحله از چرخه عمر.",
        "stage_axis": "مرحله چرخه عمر",
        "stage_clv_axis": "ارزش طول عمر کل مرحله (واحد پول ورودی)",
        "cac": "ارزش طول عمر در برابر هزینه جذب",
        "cac_channel": "هزینه جذب و میانگین ارزش طول عمر هر کانال",
        "cac_cohort": "نسبت ارزش به هزینه جذب هر گروه جذب",
        "cac_channel_title": "هزینه جذب در برابر میانگین ارزش طول عمر هر کانال",
        "cac_cohort_title": "نسبت ارزش طول عمر به هزینه جذب هر گروه جذب",
        "money_axis": "برای هر مشتری (واحد پول ورودی)",
        "channel_axis": "کانال",
        "cohort_axis": "گروه جذب (ماه)",
        "ratio_axis": "نسبت ارزش به هزینه جذب",
        "cac_series": "هزینه جذب",
        "clv_series": "میانگین ارزش طول عمر",
        "healthy_line": "سالم ({value})",
        "thin_line": "کم‌سود ({value})",
        "cac_missing": "برای مقایسه ارزش با هزینه جذب، --costs FILE را بدهید.",
        "cohorts": "ماندگاری گروه‌های جذب",
        "cohorts_note": "سهم هر گروه جذب که در هر ماه پس از جذب خرید کرده است.",
        "cohorts_partial": "خانه‌های هاشورخورده ماهِ تاریخ گزارش‌اند که هنوز تمام نشده است: "
        "فقط بخشی از آن ماه را می‌شمارند.",
        "cohorts_title": "ماندگاری به تفکیک گروه جذب",
        "months_since_axis": "ماه پس از جذب",
        "retention_axis": "مشتریان خریدار (درصد گروه)",
        "model": "برازش مدل",
        "model_none": "هیچ مدل خریدی برازش نشد (--model none).",
        "model_saved": "پارامترها از برازش ذخیره‌شده خوانده شد (--params)؛ بدون بازه اطمینان.",
        "fit_statistics": "آماره‌های برازش",
        "parameters": "پارامترها: برآورد، خطای معیار و بازه اطمینان ۹۵٪",
        "validation_table": "خریدهای دوره آزمون، پیش‌بینی در برابر واقعی",
        "validation": "اعتبارسنجی با دوره آزمون",
        "validation_note": (
            "مدل {model} روی خریدهای تا {calibration_end} برازش شد و خرید {customers} "
            "مشتری را تا {holdout_end} پیش‌بینی کرد."
        ),
        "frequency_title": "خریدهای دوره آزمون به تفکیک تعداد خرید تکراری",
        "frequency_axis": "خریدهای تکراری در دوره برازش (تعداد)",
        "mean_purchases_axis": "میانگین خرید دوره آزمون (تعداد)",
        "predicted": "پیش‌بینی",
        "actual": "واقعی",
        "tracking_title": "خریدهای تکراری تجمعی",
        "date_axis": "تاریخ",
        "cumulative_axis": "خریدهای تکراری (تعداد تجمعی)",
        "calibration_end": "پایان دوره برازش",
        "validation_missing": "برای آزمودن مدل روی دوره آزمون، --holdout 26w را بدهید.",
        "top": "مشتریان برتر",
        "top_note": "{count} مشتری با بیشترین ارزش طول عمر.",
        "top_note_purchases": "{count} مشتری با بیشترین خرید پیش‌بینی‌شده.",
        "interval_note": "ارزش پیش‌بینی‌شده هر مشتری با بازه {level} آن آمده است: بازه‌ای "
        "که عدم قطعیت پارامترهای برآوردشده مدل برای آن باقی می‌گذارد.",
        "no_amounts": "فایل ستون مبلغ ندارد: خریدها شمرده شده‌اند و مبالغ کنار گذاشته شده‌اند.",
        "settings": "تنظیمات",
        "source": "ورودی",
        "as_of": "تاریخ مبنا",
        "model_name": "مدل",
        "period": "واحد زمان",
        "margin": "حاشیه سود",
        "horizon": "افق پیش‌بینی",
        "horizon_months": "{months} ماه",
        "lifetime": "تمام عمر",
        "discount_rate": "نرخ تنزیل سالانه",
        "version": "نسخه clv",
        "retention": "ماندگاری مشترکان",
        "retention_note": "مدل {model} بر {subscribers} مشترک (تمدید هر {period}): سهم مشترکانی "
        "که پس از هر تمدید مانده‌اند، واقعی و برازش‌شده، با پیش‌بینی پس از داده‌ها.",
        "retention_value": "{active} مشترک فعال با ارزش کل {value}: قیمت هر {period} × حاشیه "
        "سود × تمدیدهای مورد انتظار تنزیل‌شده (DERL).",
        "survival_title": "مشترکان باقی‌مانده، واقعی و پیش‌بینی‌شده",
        "renewals_axis": "تمدید از آغاز اشتراک ({period})",
        "survival_axis": "مشترکان باقی‌مانده (درصد)",
        "actual_series": "واقعی",
        "fitted_series": "برازش‌شده",
        "projected_series": "پیش‌بینی‌شده",
        "retention_table": "بقا و نرخ تمدید در هر دوره",
        "active_subscribers": "مشترکان فعال",
        "base_value": "ارزش پایگاه مشترکان",
        "warnings": "یادداشت‌ها",
        "made_by": "ساخته‌شده با clv {version}.",
        "measure": "شاخص",
        "value": "مقدار",
        "none_model": "هیچ",
    },
}

COLUMNS: dict[str, dict[str, str]] = {
    "en": {
        "period": "Period",
        "active": "Active",
        "survival": "Survival",
        "fitted_survival": "Fitted survival",
        "retention": "Retention rate",
        "fitted_retention": "Fitted retention rate",
        "projected": "Projected",
        "customer_id": "Customer",
        "channel": "Channel",
        "stage": "Stage",
        "orders": "Orders",
        "first_purchase": "First purchase",
        "last_purchase": "Last purchase",
        "total_spend": "Spend",
        "p_alive": "P(alive)",
        "expected_purchases": "Expected purchases",
        "predicted_clv": "Predicted CLV",
        "predicted_clv_lower": "Predicted CLV, interval low",
        "predicted_clv_upper": "Predicted CLV, interval high",
        "expected_purchases_lower": "Expected purchases, interval low",
        "expected_purchases_upper": "Expected purchases, interval high",
        "historical_clv": "Historical CLV",
        "total_clv": "Total CLV",
        "customers": "Customers",
        "share": "Share",
        "revenue": "Revenue",
        "mean_clv": "Mean CLV",
        "cohort": "Cohort",
        "spend": "Spend",
        "cac": "CAC",
        "mean_historical_clv": "Mean historical CLV",
        "mean_total_clv": "Mean total CLV",
        "clv_cac_ratio": "CLV:CAC",
        "payback_months": "Payback (months)",
        "verdict": "Verdict",
        "model": "Model",
        "parameter": "Parameter",
        "estimate": "Estimate",
        "std_error": "Std. error",
        "ci_lower": "95% CI lower",
        "ci_upper": "95% CI upper",
        "log_likelihood": "Log-likelihood",
        "aic": "AIC",
        "bic": "BIC",
        "n_customers": "Customers",
        "converged": "Converged",
        "frequency": "Calibration frequency",
        "mean_predicted": "Mean predicted",
        "mean_actual": "Mean actual",
        "predicted_holdout_purchases": "Predicted holdout purchases",
        "actual_holdout_purchases": "Actual holdout purchases",
        "error_pct": "Error (%)",
        "mae": "MAE",
        "rmse": "RMSE",
        "msle": "MSLE",
        "bias": "Bias",
        "rel_mae": "Relative MAE",
        "correlation": "Correlation",
    },
    "fa": {
        "period": "دوره",
        "active": "فعال",
        "survival": "بقا",
        "fitted_survival": "بقای برازش‌شده",
        "retention": "نرخ تمدید",
        "fitted_retention": "نرخ تمدید برازش‌شده",
        "projected": "پیش‌بینی",
        "customer_id": "مشتری",
        "channel": "کانال",
        "stage": "مرحله",
        "orders": "سفارش‌ها",
        "first_purchase": "نخستین خرید",
        "last_purchase": "آخرین خرید",
        "total_spend": "مبلغ خرید",
        "p_alive": "احتمال فعال بودن",
        "expected_purchases": "خرید مورد انتظار",
        "predicted_clv": "ارزش پیش‌بینی‌شده",
        "predicted_clv_lower": "کران پایین ارزش پیش‌بینی‌شده",
        "predicted_clv_upper": "کران بالای ارزش پیش‌بینی‌شده",
        "expected_purchases_lower": "کران پایین خرید مورد انتظار",
        "expected_purchases_upper": "کران بالای خرید مورد انتظار",
        "historical_clv": "ارزش تاریخی",
        "total_clv": "ارزش طول عمر",
        "customers": "مشتریان",
        "share": "سهم",
        "revenue": "درآمد",
        "mean_clv": "میانگین ارزش",
        "cohort": "گروه جذب",
        "spend": "هزینه",
        "cac": "هزینه جذب",
        "mean_historical_clv": "میانگین ارزش تاریخی",
        "mean_total_clv": "میانگین ارزش طول عمر",
        "clv_cac_ratio": "نسبت ارزش به هزینه",
        "payback_months": "بازگشت هزینه (ماه)",
        "verdict": "ارزیابی",
        "model": "مدل",
        "parameter": "پارامتر",
        "estimate": "برآورد",
        "std_error": "خطای معیار",
        "ci_lower": "کران پایین ۹۵٪",
        "ci_upper": "کران بالای ۹۵٪",
        "log_likelihood": "لگاریتم درست‌نمایی",
        "aic": "AIC",
        "bic": "BIC",
        "n_customers": "مشتریان",
        "converged": "همگرا",
        "frequency": "تعداد خرید تکراری",
        "mean_predicted": "میانگین پیش‌بینی",
        "mean_actual": "میانگین واقعی",
        "predicted_holdout_purchases": "خرید پیش‌بینی‌شده دوره آزمون",
        "actual_holdout_purchases": "خرید واقعی دوره آزمون",
        "error_pct": "خطا (٪)",
        "mae": "MAE",
        "rmse": "RMSE",
        "msle": "MSLE",
        "bias": "سوگیری",
        "rel_mae": "MAE نسبی",
        "correlation": "همبستگی",
    },
}

WORDS: dict[str, dict[str, str]] = {
    "en": {"True": "yes", "False": "no"},
    "fa": {
        "potential": "بالقوه",
        "new": "جدید",
        "repeat": "تکراری",
        "loyal": "وفادار",
        "at_risk": "در معرض ریزش",
        "churned": "ریزش‌کرده",
        "healthy": "سالم",
        "thin": "کم‌سود",
        "losing": "زیان‌ده",
        "no spend": "بدون هزینه",
        "no customers": "بدون مشتری",
        "not yet": "هنوز نه",
        "total": "کل",
        "all": "همه",
        "unknown": "نامشخص",
        "none": "هیچ",
        "day": "روز",
        "week": "هفته",
        "month": "ماه",
        "year": "سال",
        "True": "بله",
        "False": "خیر",
        "gamma-gamma": "gamma-gamma",
    },
}
_COMPACT = {
    "en": ((1e9, "B"), (1e6, "M"), (1e3, "K")),
    "fa": ((1e9, " میلیارد"), (1e6, " میلیون"), (1e3, " هزار")),
}


@dataclass(frozen=True)
class Labels:
    """Words, numbers and dates for one language (``en`` or ``fa``)."""

    lang: str = "en"

    @property
    def rtl(self) -> bool:
        return self.lang == "fa"

    def __getitem__(self, key: str) -> str:
        return TEXT[self.lang][key]

    def column(self, name: str) -> str:
        return COLUMNS[self.lang].get(name, name)

    def word(self, value: str) -> str:
        """A stage, verdict or other fixed word of clv's output, translated.

        ``not yet (~9)`` becomes ``هنوز نه (~۹)`` in Persian.
        """
        words = WORDS.get(self.lang)
        if not words:
            return value
        if value in words:
            return words[value]
        if value.startswith("not yet") and "not yet" in words:
            return self.digits(words["not yet"] + value[len("not yet") :])
        # Anything else (a payback of 3 months, say) keeps its digits in the
        # report's script.
        return self.digits(value)

    def digits(self, text: str) -> str:
        """ASCII digits (and , . %) in Persian form for a Persian report."""
        return text.translate(_TO_PERSIAN) if self.lang == "fa" else text

    def number(self, value: float | None, decimals: int = 0) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return self.digits(f"{value:,.{decimals}f}")

    def percent(self, value: float | None, decimals: int = 1) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return self.digits(f"{value:.{decimals}%}")

    def compact(self, value: float) -> str:
        """Axis-tick form: 1.5M, 250K (Persian: ۱٫۵ میلیون)."""
        for size, suffix in _COMPACT[self.lang]:
            if abs(value) >= size:
                return self.digits(f"{value / size:,.3g}") + suffix
        return self.digits(f"{value:,.3g}")

    def date(self, day: int | np.integer | np.datetime64) -> str:
        """ISO date, or a Jalali date in Persian digits (1403/10/11)."""
        days = int(np.datetime64(day, "D").astype(np.int64)) if _is_date(day) else int(day)
        if self.lang == "fa":
            return self.digits(str(jalali.format_days(np.array([days]), sep="/")[0]))
        return str(np.datetime64(days, "D"))

    def month(self, day: int) -> str:
        """The month of a day: 2024-03, or Jalali 1403/01 in Persian."""
        return self.date(day)[:7]


def _is_date(value: object) -> bool:
    return isinstance(value, np.datetime64)


def labels_for(lang: str) -> Labels:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}")
    return Labels(lang)
