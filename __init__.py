from . import controllers
from . import models
from . import wizard


def post_init_hook(env):
    # the standard document templates of the apps already installed start tracked
    env["mail.template"]._mmd_track_default_templates()
