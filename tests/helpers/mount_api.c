#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <linux/mount.h>
/* Attacks on locked mounts with the new mount API and a mount namespace of
   the command's own (tests/attack_review.rs). Usage: mounts RO_DIR FILE
   COVERED: RO_DIR is a read-only bind holding FILE, COVERED a tmpfs over a
   host directory. Prints "ESCAPE ..." for each attack that makes FILE
   writable or uncovers COVERED, and "RESULT HELD" or "RESULT ESCAPED". */
static int bad=0;
static void try_write(const char*what,const char*path){
  int fd=open(path,O_WRONLY|O_APPEND);
  if(fd>=0){ if(write(fd,"x",1)==1){printf("ESCAPE %s: wrote %s\n",what,path);bad=1;} close(fd);}
}
static int fd_write(const char*what,int dfd,const char*name){
  int fd=openat(dfd,name,O_WRONLY|O_APPEND);
  if(fd>=0){ if(write(fd,"x",1)==1){printf("ESCAPE %s: wrote through the clone\n",what);bad=1;} close(fd);return 1;}
  printf("%s: open for writing: %s\n",what,strerror(errno)); return 0;
}
int main(int argc,char**argv){
  const char*ro=argv[1],*file=argv[2],*cov=argv[3];
  char fpath[512]; snprintf(fpath,512,"%s/%s",ro,file);
  /* 1. open_tree clone, clear RDONLY on the detached copy, write through it */
  int t=syscall(SYS_open_tree,AT_FDCWD,ro,OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC);
  if(t<0)printf("open_tree clone: %s\n",strerror(errno));
  else{ struct mount_attr a={0}; a.attr_clr=MOUNT_ATTR_RDONLY;
    int r=syscall(SYS_mount_setattr,t,"",AT_EMPTY_PATH,&a,sizeof a);
    printf("mount_setattr clear ro on the clone: %s\n",r?strerror(errno):"OK");
    fd_write("open_tree+mount_setattr",t,file);
    r=syscall(SYS_move_mount,t,"",AT_FDCWD,"/mnt",MOVE_MOUNT_F_EMPTY_PATH);
    printf("move_mount clone to /mnt: %s\n",r?strerror(errno):"OK");
    char p2[512];snprintf(p2,512,"/mnt/%s",file); try_write("move_mount of clone",p2);
    if(!r){ r=mount(NULL,"/mnt",NULL,MS_REMOUNT|MS_BIND,NULL); printf("remount rw of moved clone: %s\n",r?strerror(errno):"OK"); try_write("remount moved clone",p2);}
  }
  /* 2. mount_setattr directly on the ro bind, recursive */
  { struct mount_attr a={0}; a.attr_clr=MOUNT_ATTR_RDONLY;
    int r=syscall(SYS_mount_setattr,AT_FDCWD,ro,AT_RECURSIVE,&a,sizeof a);
    printf("mount_setattr clear ro in place: %s\n",r?strerror(errno):"OK"); try_write("mount_setattr in place",fpath);}
  /* 3. fspick + reconfigure rw */
  { int f=syscall(SYS_fspick,AT_FDCWD,ro,FSPICK_CLOEXEC);
    if(f<0)printf("fspick: %s\n",strerror(errno));
    else{ int r=syscall(SYS_fsconfig,f,FSCONFIG_SET_FLAG,"rw",NULL,0);
      if(!r) r=syscall(SYS_fsconfig,f,FSCONFIG_CMD_RECONFIGURE,NULL,NULL,0);
      printf("fspick reconfigure rw: %s\n",r?strerror(errno):"OK"); try_write("fspick",fpath);} }
  /* 4. a private mount namespace of our own, then umount/remount there */
  if(unshare(CLONE_NEWNS)) printf("unshare(NEWNS): %s\n",strerror(errno));
  else{
    mount(NULL,"/",NULL,MS_REC|MS_PRIVATE,NULL);
    int r=umount2(cov,MNT_DETACH); printf("umount2 covered tmpfs in own mntns: %s\n",r?strerror(errno):"OK");
    if(!r){printf("ESCAPE umount in own mntns\n");bad=1;}
    r=mount(NULL,ro,NULL,MS_REMOUNT|MS_BIND,NULL); printf("remount rw in own mntns: %s\n",r?strerror(errno):"OK"); try_write("remount in own mntns",fpath);
    r=umount2(ro,MNT_DETACH); printf("umount ro bind in own mntns: %s\n",r?strerror(errno):"OK");
    /* open_tree of the parent of the covered path, non-recursive: shows beneath */
    char parent[512]; snprintf(parent,512,"%s",cov); char*sl=strrchr(parent,'/'); if(sl&&sl!=parent)*sl=0; else strcpy(parent,"/");
    int t2=syscall(SYS_open_tree,AT_FDCWD,parent,OPEN_TREE_CLONE);
    printf("open_tree non-recursive clone of %s: %s\n",parent,t2<0?strerror(errno):"OK");
    if(t2>=0){printf("ESCAPE non-recursive clone of a parent with locked mounts\n");bad=1;}
    /* pivot_root to the ro dir, old root put away */
    r=mount(ro,ro,NULL,MS_BIND|MS_REC,NULL); 
    if(!r){ if(chdir(ro)==0){ r=syscall(SYS_pivot_root,".","."); printf("pivot_root: %s\n",r?strerror(errno):"OK");
      if(!r){ r=umount2(".",MNT_DETACH); printf("umount old root after pivot: %s\n",r?strerror(errno):"OK"); try_write("after pivot",file);} } }
  }
  printf(bad?"RESULT ESCAPED\n":"RESULT HELD\n");
  return bad;
}
