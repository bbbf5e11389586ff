"""Reading ansible-playbook's default output in tests: the PLAY RECAP and the changed tasks."""
import re


def recap(output, host):
    """The PLAY RECAP counters of ``host``, e.g. {'ok': 30, 'changed': 0, 'failed': 0}."""
    match = re.search(r"^%s\s*:\s*(.*)$" % re.escape(host), output, re.M)
    assert match, "no PLAY RECAP line for %s in the output:\n%s" % (host, output)
    return dict((key, int(value)) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1)))


def changed_tasks(output):
    """Names of the tasks that reported changed (default callback)."""
    changed, task = [], None
    for line in output.splitlines():
        header = re.match(r"^(?:TASK|RUNNING HANDLER) \[(.*)\]", line)
        if header:
            task = header.group(1)
        elif line.startswith("changed:") and task not in changed:
            changed.append(task)
    return changed
