/** @odoo-module **/

/* Steps shared by the tours that click figures: read the figure in any language, check
   the list it opens has as many rows, fail on an error dialog. */

const state = { expected: null };

/** The first whole number of a text, read in any language ("1.234" or "1,234"). */
export function readCount(element) {
    const match = element.textContent.replace(/[\s.,\u202f\u00a0']/g, "").match(/\d+/);
    if (!match) {
        throw new Error(`No figure in "${element.textContent}"`);
    }
    return parseInt(match[0], 10);
}

/** Remember the figure of ``element``: the next :func:`listHasCountedRows` checks it. */
export function countFigure(element) {
    state.expected = readCount(element);
}

/** The list that opened has as many rows as the figure counted (see ``countFigure``). */
export function listHasCountedRows(label) {
    return {
        content: `${label} opens as many rows as it counts`,
        trigger: ".o_action_manager .o_list_view:not(:has(.o_list_loading_indicator))",
        run() {
            // an empty list of a view with sample data shows fake rows: none counted
            const sample = document.querySelector(".o_action_manager .o_view_sample_data");
            const rows = sample
                ? 0
                : document.querySelectorAll(".o_action_manager .o_data_row").length;
            if (rows !== state.expected) {
                throw new Error(`${label}: counted ${state.expected}, lists ${rows}`);
            }
        },
    };
}

/** No error dialog is open. */
export function noErrorDialog(label) {
    return {
        content: `${label}: no error dialog`,
        trigger: "body:not(:has(.o_error_dialog))",
    };
}
