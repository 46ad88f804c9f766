import { Chatter } from "@mail/chatter/web_portal/chatter";
import { Message } from "@mail/core/common/message";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { patch } from "@web/core/utils/patch";

/* The envelope of the chatter: how many tracked e-mails the document has, opening
   their list (recipient, state, opens, clicks). Works on any mail.thread form. */
patch(Chatter.prototype, {
    setup() {
        super.setup(...arguments);
        this.mmdAction = useService("action");
        this.mmdOrm = useService("orm");
    },

    get requestList() {
        return [...super.requestList, "mmd_tracking"];
    },

    get mmdEnvelopeTitle() {
        return _t("Tracked e-mails: who received, opened and clicked the e-mails of this document");
    },

    async onClickMmdEnvelope() {
        const thread = this.state.thread;
        const action = await this.mmdOrm.call("mail.tracking.email", "action_open_envelope", [
            thread.model,
            thread.id,
        ]);
        await this.mmdAction.doAction(action);
    },
});

const STATE_ICONS = {
    pending: "fa-clock-o",
    sent: "fa-envelope-o",
    opened: "fa-envelope-open-o",
    clicked: "fa-mouse-pointer",
    bounced: "fa-exclamation-triangle",
    failed: "fa-exclamation-triangle",
};

/* The same states on the chatter message that sent the tracked e-mails. */
patch(Message.prototype, {
    get mmdTracking() {
        return this.message.mmdTracking || [];
    },

    mmdIcon(tracking) {
        return STATE_ICONS[tracking.state] || "fa-envelope-o";
    },

    get mmdTitle() {
        const lines = this.mmdTracking.map((t) => `${t.email}: ${t.state_label}`);
        if (this.mmdTracking.some((t) => t.state === "sent")) {
            lines.push(
                _t(
                    "Not opened can also mean the recipient reads with remote images blocked."
                )
            );
        }
        return lines.join("\n");
    },
});
