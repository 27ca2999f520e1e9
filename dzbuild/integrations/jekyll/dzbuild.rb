# dzbuild's Jekyll plugin: runs `dzbuild build` at the start of every build, before Jekyll reads
# _data/, so `jekyll build` is the one command and `jekyll serve` rebuilds a pyramid when a new
# v{n}/ appears. A rerun with nothing new does no tile work and writes no file. Another command:
# `dzbuild_command: [dzbuild, build, --progress, quiet]` in _config.yml. GitHub Pages' own Jekyll
# runs no plugins: there, run `dzbuild build` before `jekyll build` in your workflow.
require "open3"

Jekyll::Hooks.register :site, :after_reset do |site|
  command = site.config.fetch("dzbuild_command", %w[dzbuild build --progress quiet])
  output, status = Open3.capture2e(*command, chdir: site.source)
  raise Jekyll::Errors::FatalException, "#{command.join(' ')} failed: #{output.strip}" unless status.success?
rescue Errno::ENOENT => e
  raise Jekyll::Errors::FatalException, "#{command.first} not found (pip install dzbuild): #{e.message}"
end
