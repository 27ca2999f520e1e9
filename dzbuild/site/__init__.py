"""The static-site build step behind ``dzbuild build SITE``.

Modules, in pipeline order: ``config`` (dzbuild.toml), ``scan`` (image and collection folders),
``collections``, ``mirror`` (cache tree to output), ``assets`` (OpenSeadragon), ``pages`` (Jinja),
``headers`` and ``redirects`` (host control files), ``hostlimits``, ``progress``; ``build`` runs them.
Nothing is imported here, so ``import dzbuild.site.config`` stays cheap.
"""
