# Builds assets/seccomp.json: Docker's default seccomp rules, starting from the syscall
# allow list of Debian's containers-common seccomp.json (Apache-2.0).
import json
base = json.load(open('/usr/share/containers/seccomp.json'))
allow = set(base['syscalls'][1]['names'])
# Docker allows these only with a capability, or never.
restricted = {'clone','clone3','fsconfig','fsmount','fsopen','fspick','get_mempolicy','keyctl',
  'mbind','mount','mount_setattr','move_mount','open_tree','pidfd_getfd','pivot_root',
  'process_vm_readv','process_vm_writev','ptrace','reboot','set_mempolicy','setns','syslog',
  'umount','umount2','unshare','socket','personality','chroot','sethostname','setdomainname',
  'kcmp','process_madvise','set_mempolicy_home_node','bpf','perf_event_open','lookup_dcookie',
  'quotactl','quotactl_fd','acct','iopl','ioperm','settimeofday','stime','clock_settime',
  'clock_settime64','vhangup','open_by_handle_at','delete_module','init_module','finit_module',
  'arch_prctl','modify_ldt','sync_file_range2','swapcontext','breakpoint','cacheflush','set_tls',
  'arm_fadvise64_64','arm_sync_file_range','riscv_flush_icache','s390_pci_mmio_read',
  's390_pci_mmio_write','s390_runtime_instr','fanotify_init','userfaultfd','add_key','request_key',
  # io_uring bypasses seccomp (blocked since Docker 25); legacy i386 entries docker never listed.
  'io_uring_enter','io_uring_register','io_uring_setup','signal','sigaction','sigpending',
  'sigsuspend','readdir','syscall','timerfd'}
extra = {'epoll_ctl_old','epoll_wait_old','io_pgetevents','io_pgetevents_time64','landlock_add_rule',
  'memfd_secret','name_to_handle_at','process_mrelease','set_thread_area','futex_waitv',
  'vmsplice','io_pgetevents_time64','fchmodat2','map_shadow_stack','cachestat'}
names = sorted((allow - restricted) | extra, key=lambda s: s.lstrip('_'))
def rule(names, action='SCMP_ACT_ALLOW', **kw):
    r = {'names': names, 'action': action}
    r.update(kw)
    return r
caps = lambda *c: {'caps': list(c)}
arches = lambda *a: {'arches': list(a)}
syscalls = [rule(names),
  rule(['process_vm_readv','process_vm_writev','ptrace'], includes={'minKernel':'4.8'}),
  rule(['socket'], args=[{'index':0,'value':40,'op':'SCMP_CMP_NE'}]),
] + [rule(['personality'], args=[{'index':0,'value':v,'op':'SCMP_CMP_EQ'}])
     for v in (0, 8, 131072, 131080, 4294967295)] + [
  rule(['sync_file_range2','swapcontext'], includes=arches('ppc64le')),
  rule(['arm_fadvise64_64','arm_sync_file_range','sync_file_range2','breakpoint','cacheflush','set_tls'], includes=arches('arm','arm64')),
  rule(['arch_prctl'], includes=arches('amd64','x32')),
  rule(['modify_ldt'], includes=arches('amd64','x32','x86')),
  rule(['s390_pci_mmio_read','s390_pci_mmio_write','s390_runtime_instr'], includes=arches('s390','s390x')),
  rule(['riscv_flush_icache'], includes=arches('riscv64')),
  rule(['open_by_handle_at'], includes=caps('CAP_DAC_READ_SEARCH')),
  rule(['bpf','clone','clone3','fanotify_init','fsconfig','fsmount','fsopen','fspick','lookup_dcookie',
        'mount','mount_setattr','move_mount','open_tree','perf_event_open','quotactl','quotactl_fd',
        'setdomainname','sethostname','setns','syslog','umount','umount2','unshare'], includes=caps('CAP_SYS_ADMIN')),
  rule(['clone'], args=[{'index':0,'value':2114060288,'op':'SCMP_CMP_MASKED_EQ'}],
       excludes={'caps':['CAP_SYS_ADMIN'],'arches':['s390','s390x']}),
  rule(['clone'], args=[{'index':1,'value':2114060288,'op':'SCMP_CMP_MASKED_EQ'}],
       comment='s390 parameter ordering for clone is different',
       includes=arches('s390','s390x'), excludes=caps('CAP_SYS_ADMIN')),
  rule(['clone3'], 'SCMP_ACT_ERRNO', errnoRet=38, excludes=caps('CAP_SYS_ADMIN')),
  rule(['reboot'], includes=caps('CAP_SYS_BOOT')),
  rule(['chroot'], includes=caps('CAP_SYS_CHROOT')),
  rule(['delete_module','init_module','finit_module'], includes=caps('CAP_SYS_MODULE')),
  rule(['acct'], includes=caps('CAP_SYS_PACCT')),
  rule(['kcmp','pidfd_getfd','process_madvise','process_vm_readv','process_vm_writev','ptrace'], includes=caps('CAP_SYS_PTRACE')),
  rule(['iopl','ioperm'], includes=caps('CAP_SYS_RAWIO')),
  rule(['settimeofday','stime','clock_settime','clock_settime64'], includes=caps('CAP_SYS_TIME')),
  rule(['vhangup'], includes=caps('CAP_SYS_TTY_CONFIG')),
  rule(['get_mempolicy','mbind','set_mempolicy','set_mempolicy_home_node'], includes=caps('CAP_SYS_NICE')),
  rule(['syslog'], includes=caps('CAP_SYSLOG')),
  rule(['bpf'], includes=caps('CAP_BPF')),
  rule(['perf_event_open'], includes=caps('CAP_PERFMON')),
]
arch_map = [
  {'architecture':'SCMP_ARCH_X86_64','subArchitectures':['SCMP_ARCH_X86','SCMP_ARCH_X32']},
  {'architecture':'SCMP_ARCH_AARCH64','subArchitectures':['SCMP_ARCH_ARM']},
  {'architecture':'SCMP_ARCH_MIPS64','subArchitectures':['SCMP_ARCH_MIPS','SCMP_ARCH_MIPS64N32']},
  {'architecture':'SCMP_ARCH_MIPS64N32','subArchitectures':['SCMP_ARCH_MIPS','SCMP_ARCH_MIPS64']},
  {'architecture':'SCMP_ARCH_MIPSEL64','subArchitectures':['SCMP_ARCH_MIPSEL','SCMP_ARCH_MIPSEL64N32']},
  {'architecture':'SCMP_ARCH_MIPSEL64N32','subArchitectures':['SCMP_ARCH_MIPSEL','SCMP_ARCH_MIPSEL64']},
  {'architecture':'SCMP_ARCH_S390X','subArchitectures':['SCMP_ARCH_S390']},
  {'architecture':'SCMP_ARCH_RISCV64','subArchitectures':None},
]
out = {'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':1,'archMap':arch_map,'syscalls':syscalls}
json.dump(out, open(__import__('os').path.join(__import__('os').path.dirname(__file__), 'seccomp.json'),'w'), indent=2)
open(__import__('os').path.join(__import__('os').path.dirname(__file__), 'seccomp.json'),'a').write('\n')
print(len(names))
