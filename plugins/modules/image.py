#!/usr/bin/python
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: image
short_description: Ensure Docker images are present on a Mesos agent, pulled the way the Mesos Docker containerizer does
version_added: 0.1.0
description:
  - Pulls Docker images following the Mesos Docker containerizer's policy (C(force_pull_image)).
    Without O(force_pull) an image is pulled only when it is absent; with it, the image is
    always pulled and the task reports a change only when the local image ID changed.
  - Operators pre-pull big images on every agent so that tasks start inside the agent's
    C(--executor_registration_timeout); O(names) ensures many images in one call and pulls
    the missing ones in parallel.
  - Private registries are reached with the credentials of a docker config, given like the
    agent's C(--docker_config) flag, as a path, a C(file://) URL or the JSON object itself.
  - Transient registry errors (connection refused or reset, timeouts, HTTP 5xx, TLS handshake
    timeout) are retried with exponential backoff; authentication errors and missing images fail at once.
  - With O(state=absent) the images are removed (like C(docker rmi), a tag shared with other
    tags is only untagged).
author:
  - mesos.docker developers (@mesos-docker)
extends_documentation_fragment:
  - mesos.docker.docker
  - mesos.docker.docker.attributes
options:
  name:
    description:
      - One image reference, C([REGISTRY_HOST[:PORT]/]PATH[:TAG][@sha256:DIGEST]).
      - Without tag and digest the tag is C(latest), as in Mesos and Docker.
      - A first path component with a C(.) or a C(:), or C(localhost), is a registry host;
        otherwise the image is on Docker Hub (C(docker.io)), and a single component means C(library/NAME).
      - The reference is validated before the Docker daemon is contacted.
      - Exactly one of O(name) and O(names) is required.
    type: str
  names:
    description:
      - Several image references (same form as O(name)), ensured in one call.
      - Images already present cost one Docker API call in total; missing ones are pulled in
        parallel, at most O(max_workers) at a time. When some pulls fail the others still finish.
    type: list
    elements: str
  state:
    description:
      - V(present) pulls the images as needed; V(absent) removes them.
    type: str
    choices: [present, absent]
    default: present
  force_pull:
    description:
      - Mesos's C(force_pull_image). V(false) pulls only an absent image. V(true) always pulls,
        and reports a change only when the local image ID changed (the tag was re-pushed with new content).
      - In check mode with V(true), the registry's manifest digest is compared with the image's
        local repo digests to predict the change; nothing is pulled.
    type: bool
    default: false
    aliases: [force_pull_image]
  docker_config:
    description:
      - Registry credentials, given like the Mesos agent's C(--docker_config) flag.
      - A path to a docker config file (C(config.json) layout with an C(auths) key, or the old
        C(.dockercfg) layout), as a plain path or a C(file:///path) URL, on the managed host.
        A directory means its C(config.json), else its C(.dockercfg).
      - Or the JSON object itself, as a dictionary or a JSON string.
      - Entries carry C(auth) (base64 of C(USER:PASSWORD)) or C(username) and C(password). Their keys
        (C(host), C(host:port) or a URL such as C(https://index.docker.io/v1/)) are matched with the
        image's registry host the way the Docker CLI does; every Docker Hub alias means Docker Hub.
      - When given, only its credentials are used (a registry without an entry is accessed anonymously).
        When omitted, the Docker SDK looks for credentials as the C(docker) CLI would
        (E(DOCKER_CONFIG), then C(~/.docker/config.json) of the remote user).
      - Credential helpers are honoured as the Docker CLI does - a registry in C(credHelpers) gets its
        credentials from C(docker-credential-<helper> get), else C(credsStore) answers for every registry;
        the helper must be on the E(PATH) of the host the module runs on.
      - Never logged, and never part of the module's output, diff or error messages.
    type: raw
  retries:
    description:
      - How many times a pull is retried after a transient error, waiting O(retry_delay), then
        twice as long, and so on.
      - V(0) disables retries.
    type: int
    default: 3
  retry_delay:
    description:
      - Seconds to wait before the first retry; each further retry waits twice as long as the one before.
    type: float
    default: 1.0
    aliases: [backoff]
  max_workers:
    description:
      - How many images of O(names) are pulled at the same time.
    type: int
    default: 4
notes:
  - Mesos itself reads C(--docker_config) only when the agent starts; this module reads O(docker_config) on every run.
  - The registry's host must be reachable from the Docker daemon, which does the pull; C(127.0.0.0/8) registries
    are trusted without TLS by the daemon, others need TLS or the daemon's C(insecure-registries).
seealso:
  - name: Mesos Docker containerizer
    description: How Mesos pulls and runs Docker images.
    link: https://mesos.apache.org/documentation/latest/docker-containerizer/
"""

EXAMPLES = r"""
- name: Pre-pull the image a framework launches, pulled only when absent
  mesos.docker.image:
    name: registry.example.com:5000/team/app:1.4.2

- name: Pre-pull several images on every agent in one call, three at a time
  mesos.docker.image:
    names:
      - busybox
      - registry.example.com:5000/team/app:1.4.2
      - registry.example.com:5000/team/worker@sha256:4b6c6f0f4e6d7b4c0f5ad4c2a9c1e4bd33f2b0b0a6fb4f8dc2c7b6a45fe0c1d2
    max_workers: 3

- name: Always pull, like force_pull_image; reports a change only when the image changed
  mesos.docker.image:
    name: registry.example.com:5000/team/app:stable
    force_pull: true

- name: Use the agent's docker config file, as given to --docker_config
  mesos.docker.image:
    name: registry.example.com:5000/team/app:1.4.2
    docker_config: file:///etc/mesos-slave/docker.json

- name: Credentials kept in Ansible Vault, given as the JSON object itself
  mesos.docker.image:
    name: registry.example.com:5000/team/app:1.4.2
    docker_config:
      auths:
        registry.example.com:5000:
          username: "{{ vault_registry_user }}"
          password: "{{ vault_registry_password }}"

- name: Same with the auth string of `docker login`, from a vaulted variable
  mesos.docker.image:
    name: registry.example.com:5000/team/app:1.4.2
    docker_config: "{{ vault_mesos_docker_config | to_json }}"
    retries: 5
    retry_delay: 2

- name: Remove an image no task uses any more
  mesos.docker.image:
    name: registry.example.com:5000/team/app:1.3.0
    state: absent
"""

RETURN = r"""
image:
  description:
    - The image of O(name), after the task.
  returned: success and when O(name) is set
  type: dict
  contains:
    name:
      description: Normalised reference, with registry and tag.
      type: str
      returned: always
      sample: 127.0.0.1:5000/team/app:latest
    id:
      description: Local image ID; V(null) when the image is absent (or would be pulled in check mode).
      type: str
      returned: always
      sample: sha256:2e4f4a3bbf1a7e0b9c2a3e1a6c7b0f1f6b5f0e86f0cf0f0b5c3f6a1d0b7e8f9a
    repo_digests:
      description: Repository digests of the local image.
      type: list
      elements: str
      returned: always
      sample: ["127.0.0.1:5000/team/app@sha256:9f4e7d1c0a3b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d"]
    registry:
      description: Registry host the image comes from; V(docker.io) for Docker Hub.
      type: str
      returned: always
      sample: 127.0.0.1:5000
    pulled:
      description: Whether the image was pulled during this task.
      type: bool
      returned: always
      sample: true
    changed:
      description: Whether this image changed (pulled for the first time, new image ID, removed).
      type: bool
      returned: always
      sample: true
    pull_seconds:
      description: Seconds spent pulling, retries included; V(0.0) when nothing was pulled.
      type: float
      returned: always
      sample: 1.532
    attempts:
      description: Pull attempts made; V(0) when nothing was pulled.
      type: int
      returned: always
      sample: 1
    action:
      description:
        - What was done, or in check mode what would be done.
      type: str
      returned: always
      choices: [present, pulled, up to date, would pull, absent, removed, would remove]
      sample: pulled
    previous_id:
      description: Image ID before the pull; V(null) when the image was absent.
      type: str
      returned: when the image was pulled
      sample: null
    check_note:
      description: Why check mode could not compare the local image with the registry.
      type: str
      returned: in check mode with O(force_pull) when the registry could not be asked
      sample: "cannot compare with the registry: connection refused"
images:
  description:
    - One entry per element of O(names), in the same order, with the keys of RV(image).
    - When the task fails, the entries of the failed images have C(failed=true) and C(msg).
  returned: when O(names) is set
  type: list
  elements: dict
  sample:
    - name: docker.io/library/busybox:latest
      id: sha256:2e4f4a3bbf1a7e0b9c2a3e1a6c7b0f1f6b5f0e86f0cf0f0b5c3f6a1d0b7e8f9a
      repo_digests: []
      registry: docker.io
      pulled: false
      changed: false
      pull_seconds: 0.0
      attempts: 0
      action: present
attempts:
  description: Pull attempts made for the image that failed, retries included.
  returned: failure of a pull
  type: int
  sample: 4
diff:
  description: Image ID per image before and after the task (V(null) for absent).
  returned: in diff mode
  type: dict
  sample:
    before:
      127.0.0.1:5000/team/app:latest: null
    after:
      127.0.0.1:5000/team/app:latest: sha256:2e4f4a3bbf1a7e0b9c2a3e1a6c7b0f1f6b5f0e86f0cf0f0b5c3f6a1d0b7e8f9a
"""

from ansible_collections.mesos.docker.plugins.module_utils._common import (
    APIError,
    DockerException,
    DockerModule,
)
from ansible_collections.mesos.docker.plugins.module_utils._docker_config import (
    DockerConfigError,
    load as load_docker_config,
)
from ansible_collections.mesos.docker.plugins.module_utils._image_reference import (
    ImageReferenceError,
    parse as parse_reference,
)
from ansible_collections.mesos.docker.plugins.module_utils._pull import (
    ImageError,
    ImagePuller,
)

try:
    from requests.exceptions import RequestException
except ImportError:  # pragma: no cover - requests comes with the Docker SDK

    class RequestException(Exception):
        pass


RETURNED_KEYS = ("name", "id", "repo_digests", "registry", "pulled", "changed", "pull_seconds", "attempts",
                 "action", "previous_id", "check_note", "failed", "msg")
WOULD_BE_PULLED = "(would be pulled)"


class ImageParameters:
    """The module's parameters, validated before any Docker API call."""

    def __init__(self, params):
        self.single = params["name"] is not None
        raw_names = [params["name"]] if self.single else list(params["names"] or [])
        # Raises ImageReferenceError, naming the value and the expected form.
        self.references = [parse_reference(name) for name in raw_names]
        self.state = params["state"]
        self.force_pull = params["force_pull"]
        self.retries = params["retries"]
        self.retry_delay = params["retry_delay"]
        self.max_workers = params["max_workers"]
        if self.retries < 0:
            raise ValueError("retries must be 0 or more, not %d" % self.retries)
        if self.retry_delay < 0:
            raise ValueError("retry_delay must be 0 or more, not %s" % self.retry_delay)
        # Raises DockerConfigError, which never names a secret.
        self.docker_config = load_docker_config(params["docker_config"])


class ImageManager:
    """Ensures the images are present or absent and fills ``self.results``."""

    def __init__(self, dmodule, parameters):
        self.dmodule = dmodule
        self.p = parameters
        self.results = dict(changed=False)
        self.puller = ImagePuller(
            dmodule.client,
            docker_config=parameters.docker_config,
            retries=parameters.retries,
            backoff=parameters.retry_delay,
            check_mode=dmodule.check_mode,
        )

    @staticmethod
    def _public(entry):
        return dict((k, entry[k]) for k in RETURNED_KEYS if k in entry)

    def _set_results(self, entries):
        entries = [self._public(e) for e in entries]
        if self.p.single:
            self.results["image"] = entries[0]
        else:
            self.results["images"] = entries
        self.results["changed"] = any(e.get("changed") for e in entries)
        if self.dmodule.diff_mode:
            before, after = {}, {}
            for e in entries:
                if e.get("failed"):
                    continue
                action = e.get("action")
                if action in ("removed", "would remove"):
                    before[e["name"]], after[e["name"]] = e["id"], None
                elif action == "pulled" or (action == "up to date" and "previous_id" in e):
                    before[e["name"]], after[e["name"]] = e.get("previous_id"), e["id"]
                elif action == "would pull":
                    before[e["name"]], after[e["name"]] = e["id"], WOULD_BE_PULLED
                else:
                    before[e["name"]] = after[e["name"]] = e["id"]
            self.results["diff"] = dict(before=before, after=after)

    def present(self):
        if self.p.single:
            entries = [self.puller.ensure(self.p.references[0], force_pull=self.p.force_pull)]
        else:
            entries = self.puller.ensure_many(self.p.references, force_pull=self.p.force_pull,
                                              max_workers=self.p.max_workers)
        self._set_results(entries)

    def absent(self):
        entries = []
        seen = {}
        for ref in self.p.references:
            if ref not in seen:
                seen[ref] = self.puller.remove(ref)
            entries.append(seen[ref])
        self._set_results(entries)

    def run(self):
        if self.p.state == "present":
            self.present()
        else:
            self.absent()
        return self.results


def main():
    argument_spec = dict(
        name=dict(type="str"),
        names=dict(type="list", elements="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        force_pull=dict(type="bool", default=False, aliases=["force_pull_image"]),
        docker_config=dict(type="raw", no_log=True),
        retries=dict(type="int", default=3),
        retry_delay=dict(type="float", default=1.0, aliases=["backoff"]),
        max_workers=dict(type="int", default=4),
    )
    dmodule = DockerModule(
        argument_spec,
        mutually_exclusive=[("name", "names")],
        required_one_of=[("name", "names")],
        supports_check_mode=True,
    )

    dmodule.require_at_least("max_workers", 1)
    try:
        parameters = ImageParameters(dmodule.params)
    except (ImageReferenceError, DockerConfigError, ValueError) as exc:
        dmodule.fail(str(exc))
    if parameters.docker_config is not None:
        # Secrets read from a file are not module parameters: mask them in every output too.
        dmodule.register_secrets(parameters.docker_config.secrets())
        for warning in parameters.docker_config.warnings:
            dmodule.warn(warning)

    manager = None
    try:
        manager = ImageManager(dmodule, parameters)
        results = manager.run()
    except ImageError as exc:
        extra = dict(attempts=exc.attempts)
        if exc.results is not None:
            extra["images"] = [ImageManager._public(e) for e in exc.results]
            extra["changed"] = any(e.get("changed") for e in exc.results)
        dmodule.fail(exc.message, **extra)
    except (APIError, DockerException) as exc:
        scrub = manager.puller.scrub if manager else str
        dmodule.fail("Docker API error while ensuring %s: %s" % (
            ", ".join(r.name for r in parameters.references), scrub(str(exc))))
    except RequestException as exc:
        dmodule.fail("Cannot talk to the Docker daemon at %s: %s" % (dmodule.params["docker_host"], exc))
    dmodule.exit(**results)


if __name__ == "__main__":
    main()
