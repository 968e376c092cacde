/**
 * What each Kubernetes component is as a Docker unit: its image, how its
 * container runs (mounts, privileges), its flags and where Flotilla places
 * it. Flags are kubeadm's current defaults (control plane, etcd, kube-proxy)
 * and Typhoon's for the kubelet; file paths follow kubeadm's
 * /etc/kubernetes layout (units/kubernetes/README.md lists them). Pure data
 * from a Release: render.ts turns it into unit files.
 */
import { REPOSITORY_VARIABLES, type Release } from './release.js';

export interface Component {
  /** Unit file name, also the container name (unique per host: one engine per host). */
  unit: string;
  container: string;
  description: string;
  documentation: string;
  repository: keyof Release['repositories'];
  image: string;
  tag: string;
  /** docker run options besides --rm, --name and --network=host. */
  runOptions: string[];
  /** The command in the image (empty when the image's entrypoint is the component). */
  command: string[];
  flags: string[];
  /** Commands to run after the pull, before the container (ExecStartPre=). */
  prepare: string[];
  after: string[];
  xfleet: string[];
}

const PKI = '/etc/kubernetes/pki';
const APISERVER = 'kube-apiserver.service';
/** The control plane stays together on the host with control-plane metadata, as fleet-era clusters kept it. */
const WITH_APISERVER = [`MachineOf=${APISERVER}`];

function ro(path: string, inside = path): string {
  return `--volume=${path}:${inside}:ro`;
}

function rw(path: string, inside = path, mode = ''): string {
  return `--volume=${path}:${inside}${mode ? `:${mode}` : ''}`;
}

export function components(r: Release): Component[] {
  const k8s = { repository: 'kubernetes' as const, tag: r.kubernetes };
  const advertise = '${COREOS_PUBLIC_IPV4}';
  const etcd: Component = {
    unit: 'kube-etcd.service',
    container: 'kube-etcd',
    description: `etcd ${r.etcd} for Kubernetes (Docker)`,
    documentation: 'https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/',
    repository: 'kubernetes',
    image: 'etcd',
    tag: r.etcd,
    runOptions: [rw('/var/lib/etcd'), ro(`${PKI}/etcd`)],
    command: ['etcd'],
    flags: [
      '--name=%H',
      '--data-dir=/var/lib/etcd',
      `--listen-client-urls=https://127.0.0.1:2379,https://${advertise}:2379`,
      `--advertise-client-urls=https://${advertise}:2379`,
      `--listen-peer-urls=https://${advertise}:2380`,
      `--initial-advertise-peer-urls=https://${advertise}:2380`,
      `--initial-cluster=%H=https://${advertise}:2380`,
      `--cert-file=${PKI}/etcd/server.crt`,
      `--key-file=${PKI}/etcd/server.key`,
      `--trusted-ca-file=${PKI}/etcd/ca.crt`,
      '--client-cert-auth=true',
      `--peer-cert-file=${PKI}/etcd/peer.crt`,
      `--peer-key-file=${PKI}/etcd/peer.key`,
      `--peer-trusted-ca-file=${PKI}/etcd/ca.crt`,
      '--peer-client-cert-auth=true',
      '--snapshot-count=10000',
      '--listen-metrics-urls=http://127.0.0.1:2381',
      '--watch-progress-notify-interval=5s',
    ],
    prepare: [],
    after: [],
    xfleet: WITH_APISERVER,
  };
  const apiserver: Component = {
    unit: APISERVER,
    container: 'kube-apiserver',
    description: `Kubernetes API server ${r.kubernetes} (Docker)`,
    documentation: 'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/',
    ...k8s,
    image: 'kube-apiserver',
    runOptions: [ro(PKI), ro('/etc/ssl/certs')],
    command: ['kube-apiserver'],
    flags: [
      `--advertise-address=${advertise}`,
      '--allow-privileged=true',
      '--authorization-mode=Node,RBAC',
      `--client-ca-file=${PKI}/ca.crt`,
      '--enable-admission-plugins=NodeRestriction',
      '--enable-bootstrap-token-auth=true',
      `--etcd-cafile=${PKI}/etcd/ca.crt`,
      `--etcd-certfile=${PKI}/apiserver-etcd-client.crt`,
      `--etcd-keyfile=${PKI}/apiserver-etcd-client.key`,
      '--etcd-servers=https://127.0.0.1:2379',
      `--kubelet-client-certificate=${PKI}/apiserver-kubelet-client.crt`,
      `--kubelet-client-key=${PKI}/apiserver-kubelet-client.key`,
      '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
      `--proxy-client-cert-file=${PKI}/front-proxy-client.crt`,
      `--proxy-client-key-file=${PKI}/front-proxy-client.key`,
      '--requestheader-allowed-names=front-proxy-client',
      `--requestheader-client-ca-file=${PKI}/front-proxy-ca.crt`,
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-username-headers=X-Remote-User',
      '--secure-port=6443',
      `--service-account-issuer=https://kubernetes.default.svc.${r.network.dnsDomain}`,
      `--service-account-key-file=${PKI}/sa.pub`,
      `--service-account-signing-key-file=${PKI}/sa.key`,
      `--service-cluster-ip-range=${r.network.serviceSubnet}`,
      `--tls-cert-file=${PKI}/apiserver.crt`,
      `--tls-private-key-file=${PKI}/apiserver.key`,
    ],
    prepare: [],
    after: ['kube-etcd.service'],
    xfleet: ['MachineMetadata=role=control-plane'],
  };
  const cmConf = '/etc/kubernetes/controller-manager.conf';
  const controllerManager: Component = {
    unit: 'kube-controller-manager.service',
    container: 'kube-controller-manager',
    description: `Kubernetes controller manager ${r.kubernetes} (Docker)`,
    documentation: 'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/',
    ...k8s,
    image: 'kube-controller-manager',
    runOptions: [ro(PKI), ro(cmConf), ro('/etc/ssl/certs')],
    command: ['kube-controller-manager'],
    flags: [
      '--allocate-node-cidrs=true',
      `--authentication-kubeconfig=${cmConf}`,
      `--authorization-kubeconfig=${cmConf}`,
      '--bind-address=127.0.0.1',
      `--client-ca-file=${PKI}/ca.crt`,
      `--cluster-cidr=${r.network.podSubnet}`,
      '--cluster-name=kubernetes',
      `--cluster-signing-cert-file=${PKI}/ca.crt`,
      `--cluster-signing-key-file=${PKI}/ca.key`,
      '--controllers=*,bootstrapsigner,tokencleaner',
      `--kubeconfig=${cmConf}`,
      '--leader-elect=true',
      `--requestheader-client-ca-file=${PKI}/front-proxy-ca.crt`,
      `--root-ca-file=${PKI}/ca.crt`,
      `--service-account-private-key-file=${PKI}/sa.key`,
      `--service-cluster-ip-range=${r.network.serviceSubnet}`,
      '--use-service-account-credentials=true',
    ],
    prepare: [],
    after: [APISERVER],
    xfleet: WITH_APISERVER,
  };
  const schedConf = '/etc/kubernetes/scheduler.conf';
  const scheduler: Component = {
    unit: 'kube-scheduler.service',
    container: 'kube-scheduler',
    description: `Kubernetes scheduler ${r.kubernetes} (Docker)`,
    documentation: 'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-scheduler/',
    ...k8s,
    image: 'kube-scheduler',
    runOptions: [ro(schedConf)],
    command: ['kube-scheduler'],
    flags: [
      `--authentication-kubeconfig=${schedConf}`,
      `--authorization-kubeconfig=${schedConf}`,
      '--bind-address=127.0.0.1',
      `--kubeconfig=${schedConf}`,
      '--leader-elect=true',
    ],
    prepare: [],
    after: [APISERVER],
    xfleet: WITH_APISERVER,
  };
  const workers = ['Global=true', 'MachineMetadata=role=worker'];
  const kubelet: Component = {
    unit: 'kubelet.service',
    container: 'kubelet',
    description: `Kubernetes kubelet ${r.kubernetes} (Docker), on every worker`,
    documentation: 'https://kubernetes.io/docs/reference/command-line-tools-reference/kubelet/',
    repository: 'kubelet',
    image: 'kubelet',
    tag: r.kubernetes,
    // Typhoon's kubelet container on Flatcar: it manages the host's containers through containerd.
    runOptions: [
      '--privileged',
      '--pid=host',
      ro('/etc/cni/net.d'),
      ro('/etc/kubernetes'),
      ro('/etc/machine-id'),
      ro('/lib/modules'),
      rw('/run'),
      rw('/sys/fs/cgroup'),
      rw('/var/lib/containerd'),
      rw('/var/lib/kubelet', '/var/lib/kubelet', 'rshared'),
      rw('/var/log'),
      rw('/opt/cni/bin'),
    ],
    command: [],
    flags: [
      '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf',
      '--config=/etc/kubernetes/kubelet.yaml',
      '--container-runtime-endpoint=unix:///run/containerd/containerd.sock',
      '--hostname-override=%H',
      '--kubeconfig=/var/lib/kubelet/kubeconfig',
      '--node-labels=node.kubernetes.io/worker=',
    ],
    prepare: [],
    after: ['containerd.service'],
    xfleet: workers,
  };
  const proxy: Component = {
    unit: 'kube-proxy.service',
    container: 'kube-proxy',
    description: `Kubernetes network proxy ${r.kubernetes} (Docker), on every worker`,
    documentation: 'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-proxy/',
    ...k8s,
    image: 'kube-proxy',
    runOptions: ['--privileged', ro('/etc/kubernetes'), rw('/run/xtables.lock'), ro('/lib/modules')],
    command: ['kube-proxy'],
    flags: ['--config=/etc/kubernetes/kube-proxy.yaml', '--hostname-override=%H'],
    // A missing bind source would be created as a directory; iptables needs a lock file.
    prepare: ['/usr/bin/touch /run/xtables.lock'],
    after: [],
    xfleet: workers,
  };
  return [etcd, apiserver, controllerManager, scheduler, kubelet, proxy];
}

/** `${KUBE_IMAGE_REPOSITORY}/kube-apiserver:v1.36.1`: the repository is the host's to override, the rest is pinned. */
export function imageRef(c: Component): string {
  return `\${${REPOSITORY_VARIABLES[c.repository]}}/${c.image}:${c.tag}`;
}
