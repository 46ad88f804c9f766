/** @odoo-module **/
import { registry } from "@web/core/registry";
import {
    countFigure,
    listHasCountedRows,
    noErrorDialog,
} from "@mass_mailing_delivery/../tests/tours/tour_helpers";

/* Every figure of a sent mailing, clicked: the live summary, the banners, core's blue
   banner and statistic buttons, the Links tab, then the Mailing Health card. Each click
   opens a list of exactly as many rows as the figure counted; no error dialog. The
   tour runs in the user's language (English, Italian): it reads the figures by their
   classes, never by their words. */

/**
 * Steps clicking one figure and checking the list it opens.
 *
 * @param {string} label what is clicked (for the tour's log)
 * @param {string} trigger the clickable element
 * @param {string|Function} [countFrom] the element holding the figure: a selector, or a
 *     function of the clicked element (default: the clicked element)
 */
function clickFigure(label, trigger, countFrom) {
    return [
        {
            content: `Click ${label}`,
            trigger,
            run(helpers) {
                const source =
                    typeof countFrom === "function"
                        ? countFrom(helpers.anchor)
                        : countFrom
                          ? document.querySelector(countFrom)
                          : helpers.anchor;
                countFigure(source);
                helpers.click();
            },
        },
        listHasCountedRows(label),
        noErrorDialog(label),
        {
            content: `Back from ${label}`,
            trigger: ".o_breadcrumb .o_back_button",
            run: "click",
        },
    ];
}

/** Steps of the mailing form: ``form`` is the selector the form shows when loaded. */
function mailingFormSteps(form) {
    const steps = [];
    const figures = [
        "total",
        "sent",
        "delivered",
        "opened",
        "clicked",
        "replied",
        "ignored",
        "not_sent",
        "bounced",
    ];
    for (const key of figures) {
        steps.push(
            { content: "The mailing form is loaded", trigger: form },
            ...clickFigure(
                `the live summary's ${key}`,
                `.o_mmd_live_summary .o_mmd_figure_${key}`,
                `.o_mmd_live_summary .o_mmd_figure_${key} .o_mmd_value`
            )
        );
    }
    const banners = [
        "o_mmd_ignored_total",
        "o_mmd_ignored_blacklisted",
        "o_mmd_ignored_invalid",
        "o_mmd_ignored_duplicate",
        "o_mmd_not_sent_total",
        "o_mmd_not_sent_permanent",
        "o_mmd_not_sent_temporary",
    ];
    for (const cls of banners) {
        steps.push(
            { content: "The mailing form is loaded", trigger: form },
            ...clickFigure(`the banner's ${cls}`, `.o_form_view button.${cls}`)
        );
    }
    steps.push(
        { content: "The mailing form is loaded", trigger: form },
        ...clickFigure("core's sent line", ".o_form_view .o_mails_sent button")
    );
    // core's statistic buttons list the documents of the recipients the live summary counts
    const buttons = {
        action_view_delivered: "delivered",
        action_view_opened: "opened",
        action_view_replied: "replied",
        action_view_clicked: "clicked",
        action_view_bounced: "bounced",
    };
    for (const [name, key] of Object.entries(buttons)) {
        const button = `.o-form-buttonbox button[name='${name}']`;
        steps.push(
            {
                content: `Show core's ${name} (in the button box or under its More)`,
                trigger: form,
                run() {
                    if (!document.querySelector(button)) {
                        document.querySelector(".o-form-buttonbox .o_button_more").click();
                    }
                },
            },
            {
                content: `Core's ${name} shows the live summary's percentage`,
                trigger: `${button} .o_pie_value`,
                run() {
                    const pie = document.querySelector(`${button} .o_pie_value`);
                    const rate = document.querySelector(
                        `.o_mmd_live_summary .o_mmd_figure_${key} .o_mmd_rate`
                    );
                    if (!pie || !rate || pie.textContent.trim() !== rate.textContent.trim()) {
                        throw new Error(
                            `${name}: ${pie?.textContent} where the live summary says ${rate?.textContent}`
                        );
                    }
                },
            },
            ...clickFigure(
                `core's ${name}`,
                button,
                `.o_mmd_live_summary .o_mmd_figure_${key} .o_mmd_value`
            )
        );
    }
    steps.push(
        { content: "The mailing form is loaded", trigger: form },
        {
            content: "Open the Links tab",
            trigger: ".o_notebook a[name='link_summary']",
            run: "click",
        },
        ...clickFigure(
            "a row of the Links tab",
            ".o_mmd_link_summary .o_mmd_link_row",
            ".o_mmd_link_summary .o_mmd_link_row .o_mmd_link_requests"
        ),
        { content: "Back on the mailing form", trigger: form }
    );
    return steps;
}

registry.category("web_tour.tours").add("mass_mailing_delivery_mailing_figures_tour", {
    steps: () => mailingFormSteps(".o_form_view .o_mmd_live_summary .o_mmd_figure_total"),
});

/* The Mailing Health card of the same mailing: every figure opens its recipients. */
registry.category("web_tour.tours").add("mass_mailing_delivery_health_figures_tour", {
    steps: () => {
        const card = ".o_kanban_record:contains('Our autumn offer')";
        const steps = [];
        for (const key of ["sent", "bounced", "complaints", "ignored"]) {
            // the count, not the percentage: "Bounced (4)"
            const countFrom = (link) =>
                key === "sent" ? link : link.querySelector(".text-muted");
            steps.push(
                { content: "The Mailing Health card is loaded", trigger: card },
                ...clickFigure(`the card's ${key}`, `${card} .o_mmd_health_${key}`, countFrom)
            );
        }
        return steps;
    },
});
