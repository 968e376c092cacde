/**
 * The one place the Kubernetes release is pinned: every image and version in
 * units/kubernetes/ comes from here (`npm run units:kubernetes` regenerates
 * them, and a test keeps the checked-in files equal to the generator's
 * output). A bump therefore changes every affected unit file, so its hash
 * changes and a sync rolls it.
 *
 * v1.36.1 because every image exists for it: registry.k8s.io publishes
 * kube-apiserver, kube-controller-manager, kube-scheduler and kube-proxy for
 * every release, and Typhoon's kubelet image (there is no official one since
 * hyperkube ended at 1.19) is published for v1.36.1. etcd 3.6.8-0 is what
 * kubeadm's SupportedEtcdVersion table gave for Kubernetes 1.34-1.36.
 */
export interface Release {
  kubernetes: string;
  etcd: string;
  /** Default image repositories; a host's /etc/kubernetes/images.env may override them. */
  repositories: { kubernetes: string; kubelet: string };
  /** kubeadm's defaults, plus the pod subnet most CNI plugins document. */
  network: { serviceSubnet: string; podSubnet: string; dnsDomain: string };
}

export const RELEASE: Release = {
  kubernetes: 'v1.36.1',
  etcd: '3.6.8-0',
  repositories: { kubernetes: 'registry.k8s.io', kubelet: 'quay.io/poseidon' },
  network: { serviceSubnet: '10.96.0.0/12', podSubnet: '10.244.0.0/16', dnsDomain: 'cluster.local' },
};

/** The variables units read their repositories from, and the file that may set them. */
export const REPOSITORY_VARIABLES = { kubernetes: 'KUBE_IMAGE_REPOSITORY', kubelet: 'KUBELET_IMAGE_REPOSITORY' } as const;
export const IMAGES_ENV_FILE = '%E/kubernetes/images.env';
