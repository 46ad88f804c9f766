{
    "name": "Email Delivery Diagnostics",
    "summary": "Why an e-mail was ignored, refused or bounced, and what to do about it",
    "version": "18.0.1.0.0",
    "category": "Marketing/Email Marketing",
    "website": "https://github.com/mass-mailing-delivery/mass_mailing_delivery",
    "author": "Email Delivery Diagnostics contributors",
    "license": "LGPL-3",
    "depends": ["mass_mailing", "contacts"],
    "external_dependencies": {"python": ["flufl.bounce"]},
    "data": [
        "security/mass_mailing_delivery_groups.xml",
        "security/ir.model.access.csv",
    ],
    "demo": [
        "demo/res_partner_demo.xml",
        "demo/mailing_mailing_demo.xml",
    ],
}
